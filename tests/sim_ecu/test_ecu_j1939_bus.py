"""The simulated ECU's J1939 diagnostics on the bus, checked through the framework's J1939 client
and against hand-written frames (DIAG-01..03 of reference §2.4)."""

import itertools
import time
from collections.abc import Callable

import can
import pytest

from hil.dut.dtc import Dtc, LampStatus
from hil.dut.j1939 import PGN_DM1, J1939Client
from sim.ecu.diagnostics import DiagnosticsEcu, EcuDefects
from sim.ecu.dtc_memory import Lamp

ECU = 0x00
SNAPSHOT = {"dc_voltage_v": 735.2, "speed_rpm": 1500.0, "temperature_c": 60.0}


def _frames_until(
    bus: can.BusABC, stop: Callable[[list[can.Message]], bool], timeout_s: float
) -> list[can.Message]:
    frames: list[can.Message] = []
    deadline = time.monotonic() + timeout_s
    while not stop(frames):
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"condition not met within {timeout_s} s; saw {[hex(m.arbitration_id) for m in frames]}"
        )
        msg = bus.recv(timeout=remaining)
        if msg is not None:
            frames.append(msg)
    return frames


def test_dm1_single_frame_bytes_on_the_wire(
    make_ecu: Callable[..., DiagnosticsEcu], raw_bus: can.BusABC
) -> None:
    ecu = make_ecu()
    ecu.report_fault(520192, 3, True, lamp=Lamp.RED_STOP)
    frames = _frames_until(
        raw_bus, lambda fs: any(bytes(m.data) == bytes.fromhex("10FF00F0E301FFFF") for m in fs), 2.0
    )
    dm1 = [m for m in frames if m.arbitration_id == 0x18FECA00]
    assert dm1 and all(m.is_extended_id for m in dm1)


def test_dm1_with_two_dtcs_goes_by_bam_with_50_ms_between_packets(
    make_ecu: Callable[..., DiagnosticsEcu], raw_bus: can.BusABC
) -> None:
    ecu = make_ecu()
    ecu.report_fault(190, 0, True)
    ecu.report_fault(520192, 3, True, lamp=Lamp.RED_STOP)
    frames = _frames_until(
        raw_bus,
        lambda fs: (
            any(
                m.arbitration_id == 0x1CECFF00 and bytes(m.data) == bytes.fromhex("200A0002FFCAFE00")
                for m in fs
            )
            and fs[-1].arbitration_id == 0x1CEBFF00
            and fs[-1].data[0] == 2
        ),
        3.0,
    )
    start = max(i for i, m in enumerate(frames) if m.arbitration_id == 0x1CECFF00)
    transfer = [m for m in frames[start:] if m.arbitration_id in (0x1CECFF00, 0x1CEBFF00)]
    assert [bytes(m.data) for m in transfer] == [
        bytes.fromhex("200A0002FFCAFE00"),
        bytes.fromhex("0114FFBE00000100"),
        bytes.fromhex("02F0E301FFFFFFFF"),
    ]
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(transfer)]
    # bus timestamps come from another clock than the sender's: allow 1 ms between the two
    assert min(gaps) >= 0.049, f"TP packets closer than 50 ms: {gaps}"


def test_new_dtc_appears_at_once_and_dm1_repeats_every_second(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    make_ecu(dm1_period_s=1.0).report_fault(168, 4, True, lamp=Lamp.AMBER)
    first = j1939.wait_dm1(ECU, timeout_s=1.0, predicate=lambda dm: dm.find(168, 4) is not None)
    assert first.lamps.amber_warning == LampStatus.ON and first.lamps.red_stop == LampStatus.OFF
    mark = j1939.mark()
    j1939.wait_for(PGN_DM1, ECU, timeout_s=2.5, after=mark)
    second = j1939.wait_for(PGN_DM1, ECU, timeout_s=2.5, after=j1939.mark())
    times = [m.time_s for m in j1939.messages(PGN_DM1, ECU, after=mark)]
    assert second is not None and len(times) >= 2
    assert times[1] - times[0] == pytest.approx(1.0, abs=0.1)  # [R]


def test_dm2_lists_a_cleared_fault_with_its_occurrence_count(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu()
    ecu.report_fault(168, 4, True, snapshot=SNAPSHOT)
    j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(168) is not None)
    ecu.report_fault(168, 4, False)
    j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(168) is None)
    dm2 = j1939.request_dm2(ECU)
    dtc = dm2.find(168, 4)
    assert dtc is not None and dtc.oc >= 1


def test_dm11_clears_and_a_persisting_fault_sets_again(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu(redetect_delay_s=0.3)
    ecu.report_fault(168, 4, True)
    ecu.report_fault(110, 0, True)
    ecu.report_fault(110, 0, False)  # gone: must stay cleared
    j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(168) is not None)
    mark = j1939.mark()
    ack = j1939.clear_active_dtcs(ECU)
    assert ack is not None and ack.positive
    j1939.wait_for(PGN_DM1, ECU, timeout_s=1.0, after=mark, predicate=lambda m: m.data[2:6] == bytes(4))
    again = j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(168) is not None)
    assert again.dtcs == (Dtc(168, 4, 1),)
    assert j1939.request_dm2(ECU).find(110, 0) is not None  # DM11 leaves previously active
    ack = j1939.clear_previously_active_dtcs(ECU)
    assert ack is not None and ack.positive
    assert j1939.request_dm2(ECU).dtcs == ()


def test_fmi_defect_is_caught_by_the_client_check(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu(defects=EcuDefects(fmi_override=2))
    ecu.report_fault(520192, 3, True)
    dm1 = j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(520192) is not None)
    assert dm1.find(520192, fmi=3) is None  # the DIAG-01 check "correct SPN/FMI" fails, as it must
    assert dm1.find(520192, fmi=2) is not None


def test_contiguous_spn_defect_is_caught_by_the_client_check(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu(defects=EcuDefects(spn_contiguous=True))
    ecu.report_fault(520192, 3, True)
    dm1 = j1939.wait_dm1(ECU, predicate=lambda dm: len(dm.dtcs) == 1)
    assert dm1.find(520192, fmi=3) is None  # what a DIAG-01 check would flag


def test_trips_amber_defect_lights_amber_for_a_trip(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu(defects=EcuDefects(trips_amber=True))
    ecu.report_fault(520192, 0, True, lamp=Lamp.RED_STOP)
    dm1 = j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(520192) is not None)
    assert (dm1.lamps.red_stop, dm1.lamps.amber_warning) == (LampStatus.OFF, LampStatus.ON)


def test_dm2_defect_answers_with_the_active_dtcs(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    ecu = make_ecu(defects=EcuDefects(dm2_reports_active=True))
    ecu.report_fault(168, 4, True)
    ecu.report_fault(110, 0, True)
    ecu.report_fault(110, 0, False)
    j1939.wait_dm1(ECU, predicate=lambda dm: dm.find(168) is not None)
    assert [(d.spn, d.fmi) for d in j1939.request_dm2(ECU).dtcs] == [(168, 4)]


def test_clear_defects_drop_the_ack_or_the_clear(
    make_ecu: Callable[..., DiagnosticsEcu], j1939: J1939Client
) -> None:
    unacknowledged = make_ecu(defects=EcuDefects(clear_unacknowledged=True))
    unacknowledged.report_fault(168, 4, True)
    unacknowledged.report_fault(168, 4, False)
    assert j1939.clear_previously_active_dtcs(ECU, timeout_s=0.3) is None
    assert unacknowledged.memory.records() == []
    unacknowledged.stop()  # the next unit takes its address
    ignored = make_ecu(defects=EcuDefects(clear_ignored=True))
    ignored.report_fault(168, 4, True)
    ack = j1939.clear_active_dtcs(ECU)
    assert ack is not None and ack.positive
    assert [r.spn for r in ignored.memory.records()] == [168]
