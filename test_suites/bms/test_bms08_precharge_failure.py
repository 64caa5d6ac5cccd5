"""BMS-08 pre-charge failure: the insulation-fault box's 10 Ω link load across the inverter's DC input
(reference: "DC link shorted (10 Ω)") holds the link at a sixth of the pack through the 50 Ω
pre-charge resistor, so no attempt reaches 95 %. Each attempt must be aborted at its timeout with
the contactors opened; after the third the BMS latches, reports PrechargeFailed and sets its DTC.
"""

from __future__ import annotations

import contextlib
import math

import allure

from hil.dut.dtc import decode_dm
from hil.dut.j1939 import PGN_DM1
from hil.scenario import scenario
from hil.timing import WaitTimeout, wait_until
from test_suites.bms.helpers import OPEN, PRECHARGE, PRECHARGE_FAILED

pytestmark = [allure.epic("BMS")]

ATTEMPTS_ALLOWED = 3  # reference BMS-08: retry ≤ 3 then latch [S: foxBMS BMS_PRECHARGE_TRIES]
TIMEOUT_S, RETRY_WAIT_S = 5.0, 3.0  # foxBMS 2 defaults [S]: when to expect what, with margins
MARGIN_S = 1.5
SLOW_UNIT_FACTOR = 2.0
DM1_TIMEOUT_S = 2.5  # DM1 every 1 s and on a change
DM1_POLL_S = 0.05


def _attempts(frames) -> list[tuple[float, float | None, float | None]]:
    """(start, end, state it ended in) of each run of BMS_Status frames in PRECHARGE; end and state
    None while one is running."""
    runs: list[tuple[float, float | None, float | None]] = []
    for frame in frames:
        state = frame["ContactorState"]
        if state == PRECHARGE and (not runs or runs[-1][1] is not None):
            runs.append((frame.t_s, None, None))
        elif state != PRECHARGE and runs and runs[-1][1] is None:
            runs[-1] = (runs[-1][0], frame.t_s, state)
    return runs


@scenario(
    "BMS-08",
    "Pre-charge failure on a loaded link: abort, retry, latch",
    feature="Contactors",
    severity="critical",
    measures=[
        "bms.precharge_failure.abort_time_s",
        "bms.precharge_failure.attempts",
        "bms.precharge_failure.latched",
    ],
)
def test_bms08_precharge_failure(drive, isofault, vcu, can_monitor, j1939, product, measure):
    drive.transition("powered")
    address = int(product.value("drive_address", "1"))
    dm1_mark = j1939.mark()
    history = j1939.messages(PGN_DM1, address)
    before = _keys(history[-1]) if history else set()
    isofault.set_link_load(True)
    mark = can_monitor.mark()
    vcu.fault_reset()
    vcu.close_contactors(True)
    # the whole allowed sequence, then a retry wait more: a unit that tries again shows it; twice
    # that for a unit whose attempts run long (its abort time fails, not its latch); a good unit
    # latches after the first
    allowed_s = ATTEMPTS_ALLOWED * TIMEOUT_S + ATTEMPTS_ALLOWED * RETRY_WAIT_S + MARGIN_S
    allowed_s *= SLOW_UNIT_FACTOR

    def settled() -> bool:
        frames = can_monitor.frames("BMS_Status", since=mark)
        return bool(frames) and (
            frames[-1]["ContactorState"] == PRECHARGE_FAILED or len(_attempts(frames)) > ATTEMPTS_ALLOWED
        )

    with contextlib.suppress(WaitTimeout):
        wait_until(settled, timeout_s=allowed_s, what="pre-charge attempts latched or beyond three")
    frames = can_monitor.frames("BMS_Status", since=mark)
    runs = _attempts(frames)
    # the first attempt: aborted (contactors open, or latched when it was the last) at its timeout
    start, end, ended_in = runs[0] if runs else (math.nan, None, None)
    aborted = end is not None and ended_in in (OPEN, PRECHARGE_FAILED)
    measure("bms.precharge_failure.abort_time_s", end - start if aborted else math.nan)
    measure("bms.precharge_failure.attempts", float(len(runs)))
    latched = bool(frames) and frames[-1]["ContactorState"] == PRECHARGE_FAILED
    dtc = latched and _new_dtc(j1939, address, before, dm1_mark, product.dtc("precharge_failed").spn)
    measure("bms.precharge_failure.latched", 1.0 if dtc else 0.0)


def _keys(message) -> set[tuple[int, int]]:
    return {d.key for d in decode_dm(message.data).dtcs}


def _new_dtc(j1939, address: int, before: set[tuple[int, int]], mark: int, spn: int) -> bool:
    """Whether DM1 shows a new DTC with the fault's SPN from the product's table, or, if none came
    under that SPN, any new DTC: an SPN encoded wrongly is DIAG-01's to judge, not this scenario's."""

    def new() -> set[tuple[int, int]]:
        return set().union(*(_keys(m) - before for m in j1939.messages(PGN_DM1, address, after=mark)))

    with contextlib.suppress(WaitTimeout):
        wait_until(
            new,
            lambda keys: any(k[0] == spn for k in keys),
            timeout_s=DM1_TIMEOUT_S,
            what="the pre-charge DTC in DM1",
            poll_s=DM1_POLL_S,
        )
    return bool(new())
