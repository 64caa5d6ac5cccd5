"""INV-02: under-voltage torque derate and trip, the supply ramping down at 10 V/s under 50 % torque.

The torque comes from the dyno (its speed loop follows a torque that falls at ~200 N·m/s with no
steady lag), with the no-load torque taken off and back through 1st gear. The trip level is the
link voltage at the instant the phase currents stop.

A 50 % torque request meets the derate's limit only below 425 V: the line through the torque there
gives where it starts (where it would allow the peak torque) and where it ends (zero torque); the
catalogue's law has it full at 450 V and zero at 400 V.
"""

from __future__ import annotations

import math
import time

import allure
import numpy as np

from hil.acquisition import acquire_since
from hil.scenario import scenario
from hil.timing import WaitTimeout, dwell, wait_until

from .currents import PHASES, mean_around, pwm_off_time
from .driveline import FIRST_GEAR, dyno_mean, ramp_torque

pytestmark = [allure.epic("Inverter")]

OUTPUT_RPM = 182.0  # 300 rpm at the motor in 1st gear: 50 % torque is 15 kW, far inside the supply
TORQUE_NM = 480.0  # 50 % of the 950 N·m peak torque, on the TSC1's 10 N·m grid
RAMP_FROM_V = 455.0  # just above the derate's start: the full-torque reading, then the derate
RAMP_TO_V = 380.0  # catalogue INV-02
RAMP_V_PER_S = 10.0  # catalogue INV-02
RAMP_S = (RAMP_FROM_V - RAMP_TO_V) / RAMP_V_PER_S
STEP_SLEW_V_PER_S = 1000.0
SETTLED_V = 1.0
TORQUE_RAMP_S = 0.5
SETTLE_S = 0.5
POLL_S = 0.02
LEVEL_RATE_HZ = 10_000.0
LEVEL_AVERAGE_S = 0.005

LINEAR_FROM, LINEAR_TO = 0.1, 0.9  # of the torque asked: the part of the derate fitted by a line
START = "inv.dc_undervoltage.derate_start_v"
END = "inv.dc_undervoltage.derate_end_v"
TRIP = "inv.dc_undervoltage.trip_voltage_v"


@scenario(
    "INV-02",
    "DC-bus under-voltage derate and trip",
    feature="Protections",
    severity="critical",
    measures=[START, END, TRIP],
)
def test_inv02_dc_undervoltage_derate_and_trip(
    drive, driveline, vcu, supply, dyno, analyzer, can_monitor, product, measure
):
    driveline.start_turning(drive, OUTPUT_RPM)
    driveline.wait_in_gear(FIRST_GEAR)
    full_v = product.value("undervoltage_derate_start", "V")
    no_load = driveline.steady(lambda: dyno_mean(dyno, SETTLE_S).torque_nm)
    ramp_torque(vcu, 0.0, TORQUE_NM, TORQUE_RAMP_S)

    def ramp() -> tuple[list[tuple[float, float]], bool, float]:
        """(link voltage, motor torque) along the ramp; whether the drive tripped; when it began."""
        supply.set_slew(STEP_SLEW_V_PER_S)
        supply.set_voltage(RAMP_FROM_V)
        wait_until(
            lambda: analyzer.read_numeric([("UDC", 4)])[0],
            lambda v: abs(v - RAMP_FROM_V) < SETTLED_V,
            timeout_s=1.0,
            what=f"DC link at {RAMP_FROM_V:g} V",
        )
        vcu.fault_reset()  # a second attempt follows a trip, which resets at the full voltage
        dwell(SETTLE_S)
        supply.set_slew(RAMP_V_PER_S)
        supply.set_voltage(RAMP_TO_V)
        started = time.monotonic()
        samples: list[tuple[float, float]] = []

        def sample() -> bool:
            link_v = analyzer.read_numeric([("UDC", 4)])[0]
            samples.append((link_v, driveline.motor_torque(dyno.read().torque_nm, no_load, FIRST_GEAR)))
            return can_monitor.value("INV_Status", "PwmEnabled") == 0

        try:
            wait_until(sample, timeout_s=RAMP_S + 1.0, what="under-voltage trip", poll_s=POLL_S)
        except WaitTimeout:
            return samples, False, started
        return samples, True, started

    samples, tripped, started = driveline.steady(ramp)
    derate_from, derate_to = _derate_line(samples, full_v, product.value("peak_torque", "N*m"))
    measure(START, derate_from)
    measure(END, derate_to)
    if not tripped:
        measure(TRIP, RAMP_TO_V)  # no trip down to the ramp's end: the level is below it
        return
    cap = acquire_since(analyzer, ["U4", *PHASES], LEVEL_RATE_HZ, started, 0.5)
    measure(TRIP, mean_around(cap, "U4", pwm_off_time(cap), LEVEL_AVERAGE_S))


def _derate_line(samples: list[tuple[float, float]], full_v: float, peak_nm: float) -> tuple[float, float]:
    """The derate as a line through the (link voltage, torque) samples where it binds: (the voltage at
    which it reaches the peak torque, the voltage at which it reaches zero).

    The torque is scaled so the reading at full voltage is the torque asked for: a torque error of
    the drive's own (INV-06's business) does not count twice."""
    full = [t for v, t in samples if v > full_v]
    scale = TORQUE_NM / (sum(full) / len(full))
    points = [
        (v, t * scale) for v, t in samples if LINEAR_FROM * TORQUE_NM < t * scale < LINEAR_TO * TORQUE_NM
    ]
    if len(points) < 2:
        return math.nan, math.nan
    slope, intercept = np.polyfit([v for v, _ in points], [t for _, t in points], 1)
    zero_v = -intercept / slope
    return zero_v + peak_nm / slope, zero_v
