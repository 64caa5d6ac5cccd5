"""The simulated ECU's UDS over ISO-TP (29-bit normal fixed), driven by the framework's udsoncan
client (DIAG-04..06 of reference §2.4)."""

import time
from collections.abc import Callable
from typing import Any

import can
import pytest
from udsoncan.exceptions import NegativeResponseException

from hil.dut.can_link import CanLink
from hil.dut.dtc import Dtc
from hil.dut.uds import (
    DID_ECU_SERIAL_NUMBER,
    DID_PART_NUMBER,
    DID_SNAPSHOT_DC_VOLTAGE,
    DID_SNAPSHOT_SPEED,
    DID_SNAPSHOT_TEMPERATURE,
    DID_SOFTWARE_VERSION,
    DID_VIN,
    ROUTINE_INSULATION_TEST,
    ROUTINE_SELF_TEST,
    answer_times,
    client_config,
    make_uds_client,
)
from sim.ecu.diagnostics import DiagnosticsEcu, EcuDefects
from sim.ecu.dtc_memory import Lamp
from sim.ecu.identity import EcuIdentity

SNAPSHOT = {"dc_voltage_v": 735.2, "speed_rpm": 1500.0, "temperature_c": 60.0}
OV_TRIP = Dtc(spn=520192, fmi=0)  # proprietary SPN > 65535 [E]
UV_WARNING = Dtc(spn=168, fmi=4)


def nrc_of(call: Callable[[], Any]) -> int:
    with pytest.raises(NegativeResponseException) as error:
        call()
    return error.value.response.code


def test_reads_every_identity_did_in_one_request(
    make_ecu: Callable[..., DiagnosticsEcu], uds: Any, identity: EcuIdentity
) -> None:
    make_ecu()
    values = uds.read_data_by_identifier(
        [DID_PART_NUMBER, DID_ECU_SERIAL_NUMBER, DID_VIN, DID_SOFTWARE_VERSION]
    ).service_data.values
    assert values == {
        DID_PART_NUMBER: identity.part_number,
        DID_ECU_SERIAL_NUMBER: identity.serial_number,
        DID_VIN: identity.vin,
        DID_SOFTWARE_VERSION: identity.software_version,
    }


def test_reads_every_dtc_report(make_ecu: Callable[..., DiagnosticsEcu], uds: Any) -> None:
    ecu = make_ecu()
    ecu.report_fault(OV_TRIP.spn, OV_TRIP.fmi, True, snapshot=SNAPSHOT, lamp=Lamp.RED_STOP)
    ecu.report_fault(UV_WARNING.spn, UV_WARNING.fmi, True)
    ecu.report_fault(UV_WARNING.spn, UV_WARNING.fmi, False)

    count = uds.get_number_of_dtc_by_status_mask(0xFF).service_data
    assert count.dtc_count == 2
    dtcs = {d.id: d.status for d in uds.get_dtc_by_status_mask(0xFF).service_data.dtcs}
    assert set(dtcs) == {OV_TRIP.uds_number, UV_WARNING.uds_number}
    ov, uv = dtcs[OV_TRIP.uds_number], dtcs[UV_WARNING.uds_number]
    assert ov.test_failed and ov.confirmed and ov.warning_indicator_requested
    assert not uv.test_failed and uv.confirmed and uv.test_failed_since_last_clear
    assert [d.id for d in uds.get_dtc_by_status_mask(0x01).service_data.dtcs] == [OV_TRIP.uds_number]

    snapshot = uds.get_dtc_snapshot_by_dtc_number(OV_TRIP.uds_number, 0x01).service_data.dtcs[0]
    values = {s.did: s.data for s in snapshot.snapshots}
    assert values[DID_SNAPSHOT_DC_VOLTAGE] == pytest.approx(735.2)
    assert values[DID_SNAPSHOT_SPEED] == 1500
    assert values[DID_SNAPSHOT_TEMPERATURE] == 60

    extended = uds.get_dtc_extended_data_by_dtc_number(OV_TRIP.uds_number, 0xFF).service_data.dtcs[0]
    records = {e.record_number: e.raw_data for e in extended.extended_data}
    assert records == {0x01: bytes([1]), 0x02: bytes([0])}  # occurrence counter 1, aging 0


def test_clear_all_dtcs(make_ecu: Callable[..., DiagnosticsEcu], uds: Any) -> None:
    ecu = make_ecu()
    ecu.report_fault(UV_WARNING.spn, UV_WARNING.fmi, True)
    ecu.report_fault(UV_WARNING.spn, UV_WARNING.fmi, False)
    uds.clear_dtc(0xFFFFFF)
    assert uds.get_dtc_by_status_mask(0xFF).service_data.dtcs == []


def test_eol_identification_write_vin_and_routines(make_ecu: Callable[..., DiagnosticsEcu], uds: Any) -> None:
    make_ecu()
    assert nrc_of(lambda: uds.write_data_by_identifier(DID_VIN, "LZYTBGBW5B1000002")) == 0x7F
    uds.change_session(3)
    assert nrc_of(lambda: uds.write_data_by_identifier(DID_VIN, "LZYTBGBW5B1000002")) == 0x33
    uds.unlock_security_access(1)
    uds.write_data_by_identifier(DID_VIN, "LZYTBGBW5B1000002")
    assert uds.read_data_by_identifier(DID_VIN).service_data.values[DID_VIN] == "LZYTBGBW5B1000002"
    assert uds.start_routine(ROUTINE_SELF_TEST).service_data.routine_status_record == b"\x00"
    uds.ecu_reset(1)
    assert nrc_of(lambda: uds.write_data_by_identifier(DID_VIN, "LZYTBGBW5B1000003")) == 0x7F


def test_unknown_did_is_request_out_of_range(make_ecu: Callable[..., DiagnosticsEcu], link: CanLink) -> None:
    make_ecu()
    config = client_config()
    config["data_identifiers"][0x1234] = "B"
    with make_uds_client(link.bus, link.notifier, 0x00, config=config) as client:
        assert nrc_of(lambda: client.read_data_by_identifier(0x1234)) == 0x31


def test_wrong_key_then_lockout(make_ecu: Callable[..., DiagnosticsEcu], uds: Any) -> None:
    make_ecu(security_lockout_s=0.5)
    uds.change_session(3)
    for expected in (0x35, 0x35, 0x36):
        uds.request_seed(1)
        assert nrc_of(lambda: uds.send_key(2, b"\x00\x00\x00\x00")) == expected
    assert nrc_of(lambda: uds.request_seed(1)) == 0x37
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            uds.unlock_security_access(1)
            break
        except NegativeResponseException as error:
            assert error.response.code == 0x37
    else:
        pytest.fail("security access still locked 2 s after a 0.5 s delay")


def test_slow_routine_answers_pending_then_positive(
    make_ecu: Callable[..., DiagnosticsEcu], link: CanLink
) -> None:
    make_ecu(insulation_resistance_kohm=lambda: 1234.0)
    pending: list[float] = []
    config = client_config()
    config["nrc78_callback"] = lambda: pending.append(time.monotonic())
    with make_uds_client(link.bus, link.notifier, 0x00, config=config) as client:
        client.change_session(3)
        start = time.monotonic()
        response = client.start_routine(ROUTINE_INSULATION_TEST)
        elapsed = time.monotonic() - start
    assert response.service_data.routine_status_record == bytes([0x00]) + (1234).to_bytes(2, "big")
    assert len(pending) == 1 and pending[0] - start < 0.25  # 0x78 well before the result
    assert 0.3 <= elapsed < 5.0  # the result within P2* [R]


def test_functional_tester_present(make_ecu: Callable[..., DiagnosticsEcu], raw_bus: can.BusABC) -> None:
    make_ecu()
    raw_bus.send(
        can.Message(arbitration_id=0x18DB33F1, data=bytes.fromhex("023E00AAAAAAAAAA"), is_extended_id=True)
    )
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        msg = raw_bus.recv(timeout=deadline - time.monotonic())
        if msg is not None and msg.arbitration_id == 0x18DAF100:
            assert bytes(msg.data) == bytes.fromhex("027E00AAAAAAAAAA")
            return
    pytest.fail("no response on 0x18DAF100 to a functional TesterPresent")


def test_fmi_defect_shows_in_uds_too(make_ecu: Callable[..., DiagnosticsEcu], uds: Any) -> None:
    ecu = make_ecu(defects=EcuDefects(fmi_override=2))
    ecu.report_fault(OV_TRIP.spn, OV_TRIP.fmi, True)
    ids = [d.id for d in uds.get_dtc_by_status_mask(0xFF).service_data.dtcs]
    assert OV_TRIP.uds_number not in ids  # a DIAG-04 check for the right DTC fails, as it must
    assert Dtc(OV_TRIP.spn, 2).uds_number in ids


def test_answer_times_count_a_pending_answer_and_show_a_slow_unit(
    make_ecu: Callable[..., DiagnosticsEcu], link: CanLink
) -> None:
    make_ecu()
    with make_uds_client(link.bus, link.notifier, 0x00) as client:
        client.change_session(3)
        client.start_routine(ROUTINE_INSULATION_TEST)  # 0x78 at once, the result 0.3 s later
        times = answer_times(client)
    assert len(times) == 2 and max(times) < 0.25


def test_a_slow_unit_answers_late_without_response_pending(
    make_ecu: Callable[..., DiagnosticsEcu], link: CanLink
) -> None:
    make_ecu(uds_response_delay_s=0.08)
    pending: list[float] = []
    config = client_config()
    config["nrc78_callback"] = lambda: pending.append(time.monotonic())
    with make_uds_client(link.bus, link.notifier, 0x00, config=config) as client:
        client.tester_present()
        times = answer_times(client)
    assert pending == [] and len(times) == 1 and times[0] >= 0.08


def test_a_long_request_is_timed_to_its_answer_not_to_the_flow_control(
    make_ecu: Callable[..., DiagnosticsEcu], link: CanLink
) -> None:
    make_ecu(uds_response_delay_s=0.08)
    with make_uds_client(link.bus, link.notifier, 0x00) as client:
        # 20 bytes go in three frames, the ECU's flow control at once after the first
        assert nrc_of(lambda: client.write_data_by_identifier(DID_VIN, "LZYTBGBW5B1000002")) == 0x7F
        times = answer_times(client)
    assert len(times) == 1 and times[0] >= 0.08
