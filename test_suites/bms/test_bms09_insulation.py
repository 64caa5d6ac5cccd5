"""BMS-09 insulation monitoring: the insulation-fault box puts a resistance from HV+ or HV- to the
chassis, stepped down through the BMS's warning (500 Ω/V) and fault (100 Ω/V) levels of the pack
voltage; the BMS's own reading (UDS routine 0x0203) is compared with what the box inserts.

A level is found by steps around it, from above the spec's upper limit down past its lower one:
each held past the monitor's debounce, the first step the BMS reacts to is the level found (2 %
resolution). A monitor that reacts at none of them is recorded at the last step: below the limit.
"""

from __future__ import annotations

import math

import allure

from hil.scenario import scenario
from hil.timing import WaitTimeout, dwell

pytestmark = [allure.epic("BMS")]

# steps around a level, as fractions of its nominal: the spec's ±10 % and beyond [E]
STEPS = (1.12, 1.05, 1.02, 0.98, 0.95, 0.88)
HOLD_S = 1.3  # the monitor's 1 s debounce, a BMS_Status period and a margin [E]
CLEAR_TIMEOUT_S = 0.5
ACCURACY_OHM = 200e3  # between the levels at the bench's 554 V (361 Ω/V): a warning, no fault
ROUTINE_INSULATION_TEST = 0x0203
EXTENDED_SESSION = 0x03
SPEC_OHM_PER_V = {"warning": 500.0, "fault": 100.0}  # the levels' nominal values (reference BMS-09) [R]/[S]


def _clear(vcu, can_monitor, signal: str) -> bool:
    """Reset the BMS's latches (what an earlier scenario left); True once ``signal`` is clear."""
    vcu.fault_reset()
    try:
        can_monitor.wait(
            "BMS_Status", lambda f: f[signal] == 0, timeout_s=CLEAR_TIMEOUT_S, what=f"{signal} clear"
        )
    except WaitTimeout:
        return False
    return True


def _level(isofault, can_monitor, side: str, nominal_ohm: float, signal: str, pack_v: float) -> float:
    """Step ``side`` down around ``nominal_ohm``; the Ω/V of the first step at which BMS_Status shows
    ``signal``, or of the last step when it never does."""
    inserted = math.nan
    for fraction in STEPS:
        inserted = isofault.insert(side, fraction * nominal_ohm)
        dwell(HOLD_S)
        if can_monitor.value("BMS_Status", signal) == 1:
            break
    return inserted / pack_v


def _reported_kohm(uds) -> float:
    with uds(0x00) as client:
        client.change_session(EXTENDED_SESSION)
        status = client.start_routine(ROUTINE_INSULATION_TEST).service_data.routine_status_record
    return float(int.from_bytes(status[1:3], "big"))


@scenario(
    "BMS-09a",
    "Insulation warning level on HV+ and HV-, the BMS's insulation reading",
    feature="Insulation",
    severity="critical",
    measures=["bms.insulation.warning_level_ohm_per_v", "bms.insulation.accuracy_pct"],
    eol=True,
)
def test_bms09a_insulation_warning_and_accuracy(drive, isofault, supply, vcu, can_monitor, uds, measure):
    drive.transition("powered")
    pack_v = supply.measure_voltage()
    nominal = SPEC_OHM_PER_V["warning"] * pack_v
    for side in ("hv_pos", "hv_neg"):
        clear = _clear(vcu, can_monitor, "WarningActive")
        level = _level(isofault, can_monitor, side, nominal, "WarningActive", pack_v) if clear else math.nan
        measure("bms.insulation.warning_level_ohm_per_v", level)
        isofault.remove(side)
        dwell(HOLD_S)  # the warning clears 10 % above its level
    inserted = isofault.insert("hv_neg", ACCURACY_OHM)
    dwell(HOLD_S)
    measure("bms.insulation.accuracy_pct", 100.0 * (1000.0 * _reported_kohm(uds) - inserted) / inserted)


@scenario(
    "BMS-09b",
    "Insulation fault level on HV+ and HV-",
    feature="Insulation",
    severity="critical",
    measures=["bms.insulation.fault_level_ohm_per_v"],
)
def test_bms09b_insulation_fault(drive, isofault, supply, vcu, can_monitor, measure):
    drive.transition("powered")
    pack_v = supply.measure_voltage()
    nominal = SPEC_OHM_PER_V["fault"] * pack_v
    for side in ("hv_pos", "hv_neg"):
        clear = _clear(vcu, can_monitor, "FaultActive")  # a fault latches until the VCU resets it
        level = _level(isofault, can_monitor, side, nominal, "FaultActive", pack_v) if clear else math.nan
        measure("bms.insulation.fault_level_ohm_per_v", level)
        isofault.remove(side)
        dwell(HOLD_S)
