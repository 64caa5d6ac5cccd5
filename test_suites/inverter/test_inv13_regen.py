"""INV-13: regeneration stays inside the charge-current limit the BMS publishes.

The dyno drives the motor at 3000 rpm (direct drive) while TSC1 asks for -50 % torque, far more
regen than the limit allows. The cell simulator holds the pack near the top of its charge, where
the BMS tapers its charge limit (to about half): then the bench's supply, which sinks 54 kW, has
room left to take a drive that overshoots the limit, so an overshoot shows instead of being hidden
by the bench.
"""

from __future__ import annotations

import time

import allure

from hil.scenario import scenario
from hil.timing import dwell, wait_until

from .driveline import DIRECT_DRIVE, ramp_torque

pytestmark = [allure.epic("Inverter")]

MOTOR_RPM = 3000.0  # catalogue INV-13
REGEN_NM = -480.0  # -50 % of the 950 N·m peak torque, on the TSC1's 10 N·m grid
TOP_OF_CHARGE_CELL_V = 3.85  # LiFePO4 (Winston LYP) near full charge: inside the BMS's charge taper [E]
LINK_SETTLED_V = 2.0
RAMP_S = 0.5
SETTLE_S = 0.5
AVERAGE_S = 0.5
CHARGE = "inv.regen.charge_current_pct"


@scenario(
    "INV-13",
    "Regen within the BMS charge-current limit",
    feature="Regeneration",
    severity="critical",
    measures=[CHARGE],
)
def test_inv13_regen_within_the_bms_charge_limit(
    drive, driveline, vcu, supply, cellsim, analyzer, can_monitor, product, measure
):
    driveline.engage_direct_drive(drive)
    drive.transition("turning", output_rpm=MOTOR_RPM / driveline.ratio(DIRECT_DRIVE))
    cellsim.set_cell_voltages([TOP_OF_CHARGE_CELL_V] * cellsim.channels)
    pack_v = TOP_OF_CHARGE_CELL_V * product.value("pack_cells", "1")
    supply.set_voltage(pack_v)
    wait_until(
        lambda: analyzer.read_numeric([("UDC", 4)])[0],
        lambda v: abs(v - pack_v) < LINK_SETTLED_V,
        timeout_s=2.0,
        what=f"DC link at the pack's {pack_v:.1f} V",
    )
    ramp_torque(vcu, 0.0, REGEN_NM, RAMP_S)

    def regen() -> tuple[float, list[float]]:
        """The mean DC current (+ into the inverter) and the BMS's charge limits meanwhile."""
        dwell(SETTLE_S)
        mark = can_monitor.mark()
        currents = []
        started = time.monotonic()

        def read() -> float:
            currents.append(analyzer.read_numeric([("IDC", 4)])[0])
            return time.monotonic() - started

        wait_until(
            read,
            lambda elapsed: elapsed >= AVERAGE_S,
            timeout_s=AVERAGE_S + 2.0,
            what="DC current",
            poll_s=0.01,
        )
        limits = [f["MaxChargeCurrent"] for f in can_monitor.frames("BMS_Limits", since=mark)]
        return sum(currents) / len(currents), limits

    current_a, limits = driveline.steady(regen)
    ramp_torque(vcu, REGEN_NM, 0.0, RAMP_S)
    assert limits, "BMS_Limits heard while regenerating"
    measure(CHARGE, 100.0 * -current_a / (sum(limits) / len(limits)))  # regen: the current is negative
