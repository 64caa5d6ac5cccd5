"""UDS diagnostics (reference §2.4 DIAG-04...06): DTCs read with their status, count, snapshot and
extended data within P2; cleared with 0x14; and what end of line does with every unit: extended
session, security access, identification read against the product and the unit's serial, the VIN
written for good, the self-test; then the security lockout, apart, as it takes 10 s.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import allure
from diag_support import Diagnostics
from udsoncan import Dtc as UdsDtc
from udsoncan import Response
from udsoncan.client import Client
from udsoncan.exceptions import NegativeResponseException, TimeoutException
from udsoncan.services import DiagnosticSessionControl, ECUReset

from fixtures.measure import Measure
from hil.dut.dtc import Dtc
from hil.dut.uds import (
    ALL_DTC_GROUPS,
    DID_ECU_SERIAL_NUMBER,
    DID_PART_NUMBER,
    DID_SNAPSHOT_DC_VOLTAGE,
    DID_SOFTWARE_VERSION,
    DID_VIN,
    EXTENDED_DATA_OCCURRENCE_COUNTER,
    ROUTINE_RESULT_PASSED,
    ROUTINE_SELF_TEST,
    SECURITY_LEVEL_EOL,
    answer_times,
    security_key,
)
from hil.product import Product
from hil.safety import Guarded
from hil.scenario import scenario
from hil.timing import WaitTimeout, wait_until

pytestmark = [allure.epic("Diagnostics")]

Uds = Callable[[int], AbstractContextManager[Client]]

ALL_STATUS = 0xFF  # status mask: every DTC the unit stores [R]
FAILED = UdsDtc.Status(test_failed=True).get_byte_as_int()
SNAPSHOT_RECORD = 0x01  # the DTC's snapshot record (dbc/README.md) [E]
EXTENDED = DiagnosticSessionControl.Session.extendedDiagnosticSession
RESTART_WAIT_S = 2.0  # an ECU answers again this soon after a hard reset [E]
LOCKOUT_POLL_S = 0.1  # how finely the end of the lockout is found
LOCKOUT_MARGIN_S = 1.0  # past the lockout's upper limit by this, it is not going to end


def _nrc(call: Callable[[], Any]) -> int | None:
    """The negative response code ``call`` got, None if it was answered positively."""
    try:
        call()
    except NegativeResponseException as refused:
        return refused.response.code
    return None


def _seed_granted(client: Client) -> bool:
    """Whether 0x27 gives a seed now. An answer lost in the bench's timing is not a granted seed:
    the next poll asks again, and a unit that never grants one runs out the wait."""
    try:
        client.request_seed(SECURITY_LEVEL_EOL)
    except (NegativeResponseException, TimeoutException):
        return False
    return True


def _answers(client: Client) -> bool:
    try:
        client.tester_present()
    except (TimeoutException, NegativeResponseException):
        return False
    return True


def _stored(client: Client, mask: int = ALL_STATUS) -> dict[int, UdsDtc.Status]:
    return {dtc.id: dtc.status for dtc in client.get_dtc_by_status_mask(mask).service_data.dtcs}


def _active_ok(status: UdsDtc.Status | None) -> bool:
    """ISO 14229-1 status of a confirmed DTC failing now that lights a lamp [S: reference §5.4]."""
    return status is not None and all(
        (
            status.test_failed,
            status.test_failed_this_operation_cycle,
            status.pending,
            status.confirmed,
            status.test_failed_since_last_clear,
            status.warning_indicator_requested,
            not status.test_not_completed_this_operation_cycle,
        )
    )


def _passed_ok(status: UdsDtc.Status | None) -> bool:
    """The same DTC once its fault is gone: no longer failing, no lamp, still confirmed."""
    return (
        status is not None
        and not status.test_failed
        and not status.warning_indicator_requested
        and status.confirmed
    )


@scenario(
    "DIAG-04",
    "UDS read DTCs",
    feature="UDS diagnostics",
    severity="critical",
    measures=[
        "diag.uds.dtc_fmi_matches",
        "diag.uds.dtc_count_matches",
        "diag.uds.status_matches",
        "diag.uds.snapshot_voltage_error_pct",
        "diag.uds.occurrence_count",
        "diag.uds.response_time_s",
    ],
)
def test_diag04_uds_read_dtcs(
    diagnostics: Diagnostics,
    supply: Guarded,
    uds: Uds,
    measure: Measure,
) -> None:
    trip = diagnostics.trip_dtc
    expected = Dtc(trip.spn, trip.fmi).uds_number
    diagnostics.clean_start("drive_ready")  # the DC link at the pack voltage: what the trip's snapshot holds
    diagnostics.passing_warning()  # a stored DTC that is not failing: the status mask must tell it apart
    bus_v = supply.measure_voltage()
    tripped, _ = diagnostics.trip()
    times: list[float] = []
    with uds(diagnostics.address) as client:
        stored = _stored(client)
        count = client.get_number_of_dtc_by_status_mask(FAILED).service_data.dtc_count
        failing = _stored(client, FAILED)
        times += answer_times(client)
    measure("diag.uds.dtc_fmi_matches", float(expected in failing))
    measure("diag.uds.dtc_count_matches", float(count == len(failing)))
    # the trip's DTC as the unit numbers it: the right one, else the failing one with the trip's SPN
    number = next(
        (n for n in failing if n == expected),
        next((n for n in failing if Dtc.from_uds_number(n).spn == trip.spn), None),
    )
    if tripped is None or number is None:
        measure("diag.uds.status_matches", 0.0)
        return
    diagnostics.end_trip(tripped.of(trip.spn))
    with uds(diagnostics.address) as client:
        passed = _stored(client).get(number)
        snapshot = client.get_dtc_snapshot_by_dtc_number(number, SNAPSHOT_RECORD).service_data.dtcs[0]
        extended = client.get_dtc_extended_data_by_dtc_number(number, EXTENDED_DATA_OCCURRENCE_COUNTER)
        times += answer_times(client)
    measure("diag.uds.status_matches", float(_active_ok(stored.get(number)) and _passed_ok(passed)))
    values = {s.did: s.data for s in snapshot.snapshots}
    snapshot_v = values.get(DID_SNAPSHOT_DC_VOLTAGE)
    error = math.nan if snapshot_v is None else 100.0 * (snapshot_v - bus_v) / bus_v
    measure("diag.uds.snapshot_voltage_error_pct", error)
    records = {e.record_number: e.raw_data for e in extended.service_data.dtcs[0].extended_data}
    occurrences = records.get(EXTENDED_DATA_OCCURRENCE_COUNTER, b"\x00")[0]
    measure("diag.uds.occurrence_count", float(occurrences))
    measure("diag.uds.response_time_s", max(times))


@scenario(
    "DIAG-05",
    "UDS clear DTCs",
    feature="UDS diagnostics",
    severity="critical",
    measures=["diag.uds.cleared_dtc_count"],
    eol=True,
)
def test_diag05_uds_clear_dtcs(diagnostics: Diagnostics, uds: Uds, measure: Measure) -> None:
    diagnostics.clean_start()
    diagnostics.passing_warning()  # at least one stored DTC to clear
    with uds(diagnostics.address) as client:
        before = _stored(client)
        allure.attach(
            "\n".join(f"{n:06X} status {s.get_byte_as_int():02X}" for n, s in before.items()),
            name="DTCs before 0x14",
            attachment_type=allure.attachment_type.TEXT,
        )
        assert before, "no stored DTC to clear: the warning the bench caused left none"
        client.clear_dtc(ALL_DTC_GROUPS)
        after = _stored(client)
    measure("diag.uds.cleared_dtc_count", float(len(after)))


@scenario(
    "DIAG-06",
    "EOL identification",
    feature="UDS end of line",
    severity="blocker",
    measures=[
        "diag.identity.part_number_matches",
        "diag.identity.serial_number_matches",
        "diag.identity.software_version_matches",
        "diag.security.invalid_key_matches",
        "diag.routine.self_test_matches",
        "diag.identity.vin_matches",
    ],
    eol=True,
)
def test_diag06_eol_identification(uds: Uds, product: Product, unit_serial: str, measure: Measure) -> None:
    vin = product.identity("eol_vin")
    with uds(int(product.value("drive_address", "1"))) as client:
        client.change_session(EXTENDED)
        dids = [DID_PART_NUMBER, DID_ECU_SERIAL_NUMBER, DID_SOFTWARE_VERSION, DID_VIN]
        read = client.read_data_by_identifier(dids).service_data.values
        allure.attach(
            "\n".join(f"{did:04X} {read[did]!r}" for did in dids),
            name="identification read",
            attachment_type=allure.attachment_type.TEXT,
        )
        measure(
            "diag.identity.part_number_matches",
            float(read[DID_PART_NUMBER] == product.identity("part_number")),
        )
        measure("diag.identity.serial_number_matches", float(read[DID_ECU_SERIAL_NUMBER] == unit_serial))
        measure(
            "diag.identity.software_version_matches",
            float(read[DID_SOFTWARE_VERSION] == product.identity("software_version")),
        )
        seed = client.request_seed(SECURITY_LEVEL_EOL).service_data.seed
        wrong = bytes(b ^ 0xFF for b in security_key(SECURITY_LEVEL_EOL, seed))
        refused = _nrc(lambda: client.send_key(SECURITY_LEVEL_EOL + 1, wrong))
        measure("diag.security.invalid_key_matches", float(refused == Response.Code.InvalidKey))
        client.unlock_security_access(SECURITY_LEVEL_EOL)
        client.write_data_by_identifier(DID_VIN, vin)
        result = client.start_routine(ROUTINE_SELF_TEST).service_data.routine_status_record
        measure("diag.routine.self_test_matches", float(result[:1] == bytes([ROUTINE_RESULT_PASSED])))
        client.ecu_reset(ECUReset.ResetType.hardReset)
        wait_until(lambda: _answers(client), timeout_s=RESTART_WAIT_S, what="the ECU answers after its reset")
        kept = client.read_data_by_identifier(DID_VIN).service_data.values[DID_VIN]
    measure("diag.identity.vin_matches", float(kept == vin))


@scenario(
    "DIAG-06b",
    "Security access lockout",
    feature="UDS end of line",
    severity="critical",
    measures=["diag.security.lockout_matches", "diag.security.lockout_time_s"],
)
def test_diag06b_security_lockout(uds: Uds, product: Product, measure: Measure) -> None:
    attempts = int(product.value("security_attempts", "1"))
    with uds(int(product.value("drive_address", "1"))) as client:
        client.change_session(EXTENDED)
        refusals = []
        for _ in range(attempts):
            seed = client.request_seed(SECURITY_LEVEL_EOL).service_data.seed
            wrong = bytes(b ^ 0xFF for b in security_key(SECURITY_LEVEL_EOL, seed))
            refusals.append(_nrc(lambda: client.send_key(SECURITY_LEVEL_EOL + 1, wrong)))  # noqa: B023
        locked_at = time.monotonic()
        refusals.append(_nrc(lambda: client.request_seed(SECURITY_LEVEL_EOL)))
        expected = [Response.Code.InvalidKey] * (attempts - 1) + [
            Response.Code.ExceedNumberOfAttempts,
            Response.Code.RequiredTimeDelayNotExpired,
        ]
        measure("diag.security.lockout_matches", float(refusals == expected))
        # the lockout ends when a seed is granted again
        try:
            wait_until(
                lambda: _seed_granted(client),
                timeout_s=measure.spec("diag.security.lockout_time_s").high + LOCKOUT_MARGIN_S,
                what="0x27 requestSeed granted after the lockout",
                poll_s=LOCKOUT_POLL_S,
            )
            lockout_s = time.monotonic() - locked_at
        except WaitTimeout:
            lockout_s = math.inf
    measure("diag.security.lockout_time_s", lockout_s)
