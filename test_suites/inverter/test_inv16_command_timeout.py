"""INV-16: the drive takes its torque away when the TSC1 torque command stops coming."""

from __future__ import annotations

import math
import time

import allure
import numpy as np

from hil.scenario import scenario
from hil.timing import dwell
from hil.waveform import Capture, find_crossing

from .currents import PHASES, capture_on_bench_clock, motor_torque_shape
from .driveline import FIRST_GEAR

pytestmark = [allure.epic("Inverter")]

OUTPUT_RPM = 909.0  # 1500 rpm at the motor in 1st gear, where the TCU stays below 30 km/h [E]
TORQUE_NM = 200.0  # 31 kW at 1500 rpm: inside the bench supply's 54 kW
IDLE_S = 0.2  # zero torque first: the magnetising current alone, for i_d and the ripple fit
SETTLE_S = 0.3  # the torque settled (5 ms loop) and held
WATCH_S = 0.45  # after the last frame: timeout (100 ms) and reaction, with room for a late drive
RATE_HZ = 100_000.0  # ten samples per PWM period
AVERAGE_S = 0.0005  # five PWM periods
OFF_FRACTION = 0.1  # "torque → 0": below a tenth of the torque held
TIME = "inv.command_timeout.torque_off_time_s"


@scenario(
    "INV-16",
    "Torque off on a TSC1 command timeout",
    feature="Protections",
    severity="critical",
    measures=[TIME],
    eol=True,
)
def test_inv16_command_timeout(drive, driveline, vcu, analyzer, measure):
    driveline.start_turning(drive, OUTPUT_RPM)
    driveline.wait_in_gear(FIRST_GEAR)

    def held() -> None:  # a second settling if the bench's own stream broke during the first
        vcu.request_torque(TORQUE_NM)
        dwell(SETTLE_S)

    def timed_out() -> tuple[Capture, float, float]:
        """The torque held, the TSC1 frames stopped, and the capture with its clock offset and the
        last frame's instant. Taken again where the capture could not be placed on the clock: a
        retake starts from the drive idling, its command stream back."""
        vcu.request_torque(0.0)
        vcu.start_torque_requests()
        driveline.settle_flux()
        started = time.monotonic()
        dwell(IDLE_S)
        driveline.steady(held)
        vcu.hold_torque_requests()
        dwell(WATCH_S)
        last_frame = vcu.last_torque_request_s
        window_s = time.monotonic() - started
        return (
            *capture_on_bench_clock(
                analyzer, [*PHASES, "U1", "U2", "U3"], RATE_HZ, round(window_s * RATE_HZ)
            ),
            last_frame,
        )

    try:
        cap, offset, last_frame = driveline.steady(timed_out, timeout_expected=True)
    finally:
        vcu.start_torque_requests()
    stopped = last_frame - offset
    shape = motor_torque_shape(cap, (cap.start_s, cap.start_s + 0.8 * IDLE_S), AVERAGE_S)
    h0, h1 = cap.index_range((stopped - 0.1, stopped))
    relative = Capture.from_arrays(shape / np.mean(shape[h0:h1]), RATE_HZ, ["torque"], "1", cap.start_s)
    off = find_crossing(relative, OFF_FRACTION, direction="falling", during=(stopped, cap.end_s))
    took = off.value("time_s") - stopped
    measure(TIME, took if math.isfinite(took) else cap.end_s - stopped)
