"""INV-04: the software phase over-current trip, its level and its time.

The production trip (1.2 × I_peak, 764 A) is above anything the drive's 450 A current limit, and
the bench's 54 kW, let it carry. So the bench does what a test calibration is for: in an unlocked
extended UDS session it lowers the trip level (DID FD10, dbc/README.md) to 200 A, which a torque of
~250 N·m at 1500 rpm reaches, and the level returns when the session ends.

- Level: the torque request climbs in the TSC1's 10 N·m steps (~0.5 A/ms) until the drive trips;
  the phase current at the instant the currents stop is the true current at which it tripped.
  Scaled by the production level over the level written (a current-sensing gain error scales
  alike; an offset error would be overstated), it is the production trip current.
- Time: with the production level back while the flux settles after the reset, the level is
  lowered again and the torque request steps far past it: from the instant the current crosses the
  level just measured to the instant the currents stop.
"""

from __future__ import annotations

import contextlib
import math
import time

import allure
import numpy as np

from hil.acquisition import acquire_since
from hil.dut.uds import DID_OVERCURRENT_TRIP_TEST
from hil.scenario import scenario
from hil.timing import WaitTimeout, dwell
from hil.waveform import Capture, find_crossing

from .currents import (
    PHASES,
    SWITCHING_HZ,
    current_vector,
    pwm_off_time,
    ripple_free_magnitude,
    switching_mean,
)
from .driveline import FIRST_GEAR, TSC1_STEP_NM

pytestmark = [allure.epic("Inverter")]

EXTENDED_SESSION, DEFAULT_SESSION, SECURITY_LEVEL = 0x03, 0x01, 0x01
OUTPUT_RPM = 909.0  # 1500 rpm at the motor in 1st gear (50 Hz electrical)
TEST_LEVEL_A = 200.0  # the lowered trip level: ≈ 245 N·m at rated flux, 38 kW at 1500 rpm
RAMP_FROM_NM = 150.0  # ≈ 155 A
RAMP_TO_NM = 400.0  # ≈ 280 A: a unit that has not tripped by then trips far too high
RAMP_STEP_S = 0.01  # one TSC1 period per 10 N·m step
HOLD_NM = 100.0  # ≈ 135 A before the step
STEP_TO_NM = 900.0  # the step: the current rises through the level at ~50 A/ms
SETTLE_S = 0.3
LEVEL_RATE_HZ = 100_000.0
TIME_RATE_HZ = 1_000_000.0  # 1 µs: two PWM periods are 200 µs
HELD_BEFORE_STEP_S = 0.1  # of the held torque in the capture: the ripple is fitted there
HELD_FOR_FIT_S = 0.002  # the held current: the first 2 ms of the 10 ms before the trip
RISE_POINTS = 20  # samples of the rise a line is fitted through (the rise takes ~1 ms: ~1000)
# the step's TSC1 frame, the current's rise, the trip and its INV_Status frame take ~30 ms; a loaded
# machine can hold the frame back longer, and a capture that ended before the trip would time none
TRIP_WATCH_S = 1.0

TRIP_CURRENT = "inv.phase_overcurrent.trip_current_a"
TRIP_TIME = "inv.phase_overcurrent.trip_time_s"


def _lowered(uds, level_a: float) -> float:
    """Write the test trip level in an unlocked extended session; the level the drive reads back."""
    uds.change_session(EXTENDED_SESSION)
    uds.unlock_security_access(SECURITY_LEVEL)
    uds.write_data_by_identifier(DID_OVERCURRENT_TRIP_TEST, level_a)
    return _level(uds)


def _level(uds) -> float:
    return uds.read_data_by_identifier(DID_OVERCURRENT_TRIP_TEST).service_data.values[
        DID_OVERCURRENT_TRIP_TEST
    ]


def _pwm_on(can_monitor) -> bool:
    return can_monitor.value("INV_Status", "PwmEnabled") == 1


@scenario(
    "INV-04",
    "Phase over-current trip level and time",
    feature="Protections",
    severity="critical",
    measures=[TRIP_CURRENT, TRIP_TIME],
)
def test_inv04_phase_overcurrent(drive, driveline, vcu, analyzer, can_monitor, uds, product, measure):
    driveline.start_turning(drive, OUTPUT_RPM)
    driveline.wait_in_gear(FIRST_GEAR)
    driveline.settle_flux()
    with uds(int(product.value("drive_address", "1"))) as client:
        production_a = _level(client)
        written_a = _lowered(client, TEST_LEVEL_A)
        vcu.request_torque(RAMP_FROM_NM)
        dwell(SETTLE_S)
        torque_nm = RAMP_FROM_NM
        ramp_started = time.monotonic()
        while _pwm_on(can_monitor) and torque_nm < RAMP_TO_NM:
            torque_nm += TSC1_STEP_NM
            vcu.request_torque(torque_nm)
            dwell(RAMP_STEP_S)
        dwell(RAMP_STEP_S * 5)  # INV_Status comes every 20 ms: the trip, if any, is on the bus by now
        cap = acquire_since(analyzer, list(PHASES), LEVEL_RATE_HZ, ramp_started)
        tripped_a = _current_at_trip(cap)
        measure(TRIP_CURRENT, production_a * tripped_a / written_a)

        vcu.request_torque(0.0)
        client.change_session(DEFAULT_SESSION)  # the production level back for the restart
        vcu.fault_reset()
        driveline.settle_flux()  # the forced magnetising current is over before the level drops again
        _lowered(client, TEST_LEVEL_A)
        vcu.request_torque(HOLD_NM)
        dwell(SETTLE_S)
        mark = can_monitor.mark()
        stepped = time.monotonic()
        vcu.request_torque(STEP_TO_NM)
        with contextlib.suppress(WaitTimeout):  # no trip: the capture holds none, and the time is inf
            can_monitor.wait(
                "INV_Status",
                lambda f: f["PwmEnabled"] == 0,
                timeout_s=TRIP_WATCH_S,
                what="the drive's trip on the torque step",
                since=mark,
            )
        cap = acquire_since(analyzer, list(PHASES), TIME_RATE_HZ, stepped, HELD_BEFORE_STEP_S)
        vcu.request_torque(0.0)
        client.change_session(DEFAULT_SESSION)
    measure(TRIP_TIME, _trip_latency(cap, tripped_a))


def _magnitude(cap: Capture, steady: tuple[float, float]) -> Capture:
    vector = switching_mean(current_vector(cap), cap.sample_rate_hz)
    i0, i1 = cap.index_range(steady)
    magnitude = ripple_free_magnitude(vector, slice(i0, i1))
    return Capture.from_arrays(magnitude, cap.sample_rate_hz, ["|i|"], "A", cap.start_s)


def _current_at_trip(cap: Capture) -> float:
    """The current's magnitude at the trip: its average over the last switching period before the
    currents stopped; the last sample's magnitude if the drive did not trip."""
    edge = pwm_off_time(cap)
    if not np.isfinite(edge):
        return float(np.abs(current_vector(cap))[-1])
    before = edge - 0.5 / SWITCHING_HZ  # the centre of the last whole period before the edge
    magnitude = _magnitude(cap, (cap.start_s, edge - 1.0 / SWITCHING_HZ))
    return float(np.interp(before, magnitude.time_s(), magnitude.samples[0]))


def _trip_latency(cap: Capture, level_a: float) -> float:
    """From the current's crossing of ``level_a`` to the currents stopping."""
    edge = pwm_off_time(cap)
    if not np.isfinite(edge):
        return math.inf  # not tripped in the capture, which runs from before the step until now
    steady_to = edge - 0.01  # the held torque before the step: the ripple fitted there
    magnitude = _magnitude(cap, (cap.start_s, steady_to))
    # the magnitude is averaged over a switching period: in the half period before the edge it
    # averages in the stopped currents, so a drive that trips within half a period of the crossing
    # never shows the level there. Read the crossing only where the average is whole, else where
    # the rise, extended, reaches the level
    whole_to = edge - 1.0 / SWITCHING_HZ
    crossed = find_crossing(magnitude, level_a, direction="rising", during=(steady_to, whole_to))
    if crossed:
        return edge - crossed.value("time_s")
    return edge - _rise_reaches(magnitude, level_a, (steady_to, whole_to))


def _rise_reaches(magnitude: Capture, level_a: float, during: tuple[float, float]) -> float:
    """When a line through the last rise in ``during`` (from halfway between the held current and
    ``level_a``) reaches ``level_a``; NaN where there is no such rise."""
    i0, i1 = magnitude.index_range(during)
    values = magnitude.samples[0][i0:i1]
    held = float(np.mean(values[: max(1, round(HELD_FOR_FIT_S * magnitude.sample_rate_hz))]))
    halfway = (held + level_a) / 2.0
    below = np.flatnonzero(values < halfway)
    start = int(below[-1]) + 1 if below.size else 0
    rise = values[start:]
    if rise.size < RISE_POINTS or level_a <= halfway:
        return math.nan
    t = magnitude.time_of(np.arange(i0 + start, i1))
    slope, intercept = np.polyfit(t - t[0], rise, 1)
    return t[0] + (level_a - intercept) / slope if slope > 0.0 else math.nan
