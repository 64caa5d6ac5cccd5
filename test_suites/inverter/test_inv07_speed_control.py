"""INV-07: the drive holds the motor speed TSC1 asks for (override control mode 1) against a load.

The dyno turns into the load: in torque control it brakes, then drives, the output shaft with 30 %
of the peak torque through 1st gear, and the drive's speed loop alone holds the speed. The motor's
speed is the dyno's times the gear ratio (the TCU holds 1st at these speeds).
"""

from __future__ import annotations

import allure

from hil.scenario import scenario
from hil.timing import dwell

from .driveline import FIRST_GEAR, dyno_mean

pytestmark = [allure.epic("Inverter")]

SPEEDS_RPM = (500.0, 1000.0)  # catalogue 500…6000 rpm; at ±30 % torque the bench's 54 kW ends near 1700
LOAD_FRACTION = 0.3  # catalogue INV-07: dyno torque ±30 % (of the peak torque, at the motor)
# the speed request moves along a ramp: a step would have the speed loop ask for the peak torque,
# more power than the bench's supply gives at speed
RAMP_RPM_PER_S = 500.0
RAMP_STEP_S = 0.02
SETTLE_S = 1.0  # the speed loop back at its set point after a load step (≈ 0.5 s)
AVERAGE_S = 0.5
ERROR = "inv.speed_control.error_rpm"


@scenario(
    "INV-07",
    "Speed-control accuracy under load",
    feature="Speed control",
    severity="normal",
    measures=[ERROR],
)
def test_inv07_speed_control_under_load(drive, driveline, vcu, dyno, product, measure):
    drive.transition("drive_ready")
    driveline.wait_engaged()  # a shift left in neutral by the last stop finishes before the shaft turns
    ratio = driveline.ratio(FIRST_GEAR)
    load_nm = LOAD_FRACTION * product.value("peak_torque", "N*m") * ratio
    dyno.set_torque(0.0)  # the shaft is the drive's to turn
    errors = []
    previous = 0.0
    for speed_rpm in SPEEDS_RPM:
        _ramp_speed(vcu, previous, speed_rpm)
        previous = speed_rpm
        driveline.wait_in_gear(FIRST_GEAR)
        for load in (load_nm, -load_nm):  # braking, then driving the shaft
            dyno.set_torque(load)

            def speed() -> float:
                dwell(SETTLE_S)
                return dyno_mean(dyno, AVERAGE_S).speed_rpm * ratio

            held = driveline.steady(speed)
            allure.dynamic.parameter(f"{speed_rpm:g} rpm, dyno {load:+.0f} N·m", f"{held:.2f} rpm")
            errors.append(held - speed_rpm)
        dyno.set_torque(0.0)
    vcu.request_torque(0.0)
    measure(ERROR, max(errors, key=abs))


def _ramp_speed(vcu, from_rpm: float, to_rpm: float) -> None:
    steps = max(1, round(abs(to_rpm - from_rpm) / (RAMP_RPM_PER_S * RAMP_STEP_S)))
    for k in range(1, steps + 1):
        vcu.request_speed(from_rpm + (to_rpm - from_rpm) * k / steps)
        dwell(RAMP_STEP_S)
