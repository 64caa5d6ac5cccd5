"""INV-05: the torque response to TSC1 steps with the flux established, and from zero flux.

With the flux established the torque is read from the analyzer's phase currents (see currents.py):
the dyno's reading would show its own speed loop and the shaft's inertia, which take tens of
milliseconds to pass a 5 ms torque step on. From zero flux the currents say nothing simple (the
drive forces the magnetising current while the flux builds), so the dyno's torque reading is used:
its speed loop has no steady lag for an input that rises over a hundred milliseconds, so its t_90
is the motor's.
"""

from __future__ import annotations

import time

import allure
import numpy as np

from hil.scenario import scenario
from hil.timing import dwell, wait_until
from hil.waveform import Capture, find_crossing, step_info

from .currents import PHASES, PWM_OFF_A, capture_on_bench_clock, current_magnitude, motor_torque_shape
from .driveline import FIRST_GEAR

pytestmark = [allure.epic("Inverter")]

# Flux established: 1500 rpm at the motor (catalogue), 1st gear below 30 km/h [E]. Steps to
# 50 %, 100 %, -50 % of 240 N·m: 38 kW at 1500 rpm, what the bench supply's 54 kW carries with the
# losses (the catalogue's peak torque there would be 150 kW)
STEP_OUTPUT_RPM = 909.0
STEPS_NM = (120.0, 240.0, -120.0)
RESET_S = 0.05
IDLE_S = 0.2
HOLD_S = 0.15  # per step: three times the 50 ms settling limit
RATE_HZ = 100_000.0
AVERAGE_S = 0.0005  # five PWM periods: the noise of a sample averaged, a 20 ms rise untouched
PLATEAU_S = 0.03  # each level is the mean of the last 30 ms before the next step
GUARD_S = 0.01
# From zero flux: 50 % of the 950 N·m peak torque on the TSC1's 10 N·m grid, at 500 rpm (25 kW)
ZERO_FLUX_OUTPUT_RPM = 303.0
ZERO_FLUX_NM = 480.0
ZERO_FLUX_WATCH_S = 1.5  # pre-charge (≈ 0.5 s), then the rise and the dyno's loop settled
DYNO_POLL_S = 0.002
CAPTURE_RATE_HZ = 10_000.0  # the instant the currents start, to 0.1 ms
FINAL_S = 0.2  # the dyno's settled reading: the mean of the last 0.2 s
CONTACTORS_OPEN = 0

RISE = "inv.torque_step.rise_time_s"
OVERSHOOT = "inv.torque_step.overshoot_pct"
SETTLING = "inv.torque_step.settling_time_s"
ZERO_FLUX_T90 = "inv.torque_step.zero_flux_t90_s"


def request_and_time(vcu, torque_nm: float) -> float:
    """Ask for ``torque_nm``; when (``time.monotonic()``) the first TSC1 frame carrying it went out."""
    request = vcu.request_torque(torque_nm)
    return vcu.wait_sent(request, timeout_s=1.0, poll_s=0.001, what=f"a TSC1 frame asking {torque_nm:g} N·m")


@scenario(
    "INV-05a",
    "Torque steps with the flux established",
    feature="Torque control",
    severity="critical",
    measures=[RISE, OVERSHOOT, SETTLING],
)
def test_inv05a_torque_steps_with_flux_established(drive, driveline, vcu, analyzer, measure):
    driveline.start_turning(drive, STEP_OUTPUT_RPM)
    driveline.wait_in_gear(FIRST_GEAR)
    driveline.settle_flux()

    def sequence() -> tuple[Capture, float, list[float]]:
        vcu.request_torque(0.0)  # (a second attempt starts where the first one's last step left it)
        dwell(RESET_S)
        started = time.monotonic()
        dwell(IDLE_S)
        commanded = []
        for torque_nm in STEPS_NM:
            commanded.append(request_and_time(vcu, torque_nm))
            dwell(HOLD_S)
        window_s = time.monotonic() - started
        return (
            *capture_on_bench_clock(
                analyzer, [*PHASES, "U1", "U2", "U3"], RATE_HZ, round(window_s * RATE_HZ)
            ),
            commanded,
        )

    cap, offset, commanded = driveline.steady(sequence)
    vcu.request_torque(0.0)
    steps = [t - offset for t in commanded]
    idle = (cap.start_s, steps[0] - 0.01)
    torque = Capture.from_arrays(
        motor_torque_shape(cap, idle, AVERAGE_S), RATE_HZ, ["torque"], "1", cap.start_s
    )
    # each step's window ends short of the next command: the capture's clock is good to a few ms
    ends = [t - GUARD_S for t in (*steps[1:], cap.end_s)]
    levels = [_mean(torque, end - PLATEAU_S, end) for end in [steps[0] - GUARD_S, *ends]]
    results = [
        step_info(
            torque,
            during=(start - 0.01, end),
            step_time_s=start,
            initial_value=levels[k],
            final_value=levels[k + 1],
        )
        for k, (start, end) in enumerate(zip(steps, ends, strict=True))
    ]
    measure(RISE, max(r.value("rise_time_s") for r in results))
    measure(OVERSHOOT, max(r.value("overshoot_pct") for r in results))
    measure(SETTLING, max(r.value("settling_time_s") for r in results))


def _mean(cap: Capture, t0: float, t1: float) -> float:
    i0, i1 = cap.index_range((t0, t1))
    return float(np.mean(cap.samples[0, i0:i1]))


@scenario(
    "INV-05b",
    "Torque rise from zero flux",
    feature="Torque control",
    severity="critical",
    measures=[ZERO_FLUX_T90],
)
def test_inv05b_torque_rise_from_zero_flux(drive, driveline, vcu, dyno, analyzer, can_monitor, measure):
    driveline.start_turning(drive, ZERO_FLUX_OUTPUT_RPM)
    driveline.wait_in_gear(FIRST_GEAR)

    def rise() -> tuple[list[tuple[float, float]], Capture, float]:
        """(dyno readings on this process's clock, a capture of the currents, its clock offset)."""
        vcu.request_torque(0.0)
        vcu.close_contactors(False)
        can_monitor.wait(
            "BMS_Status",
            lambda f: f["ContactorState"] == CONTACTORS_OPEN,
            timeout_s=1.0,
            what="contactors open",
        )
        driveline.settle_flux()  # PWM off: the flux decays to nothing
        vcu.request_torque(ZERO_FLUX_NM)  # asked for before the drive can modulate: from zero flux
        vcu.close_contactors(True)
        readings: list[tuple[float, float]] = []
        started = time.monotonic()

        def read() -> float:
            before = time.monotonic()
            torque_nm = dyno.read().torque_nm
            after = time.monotonic()
            readings.append((0.5 * (before + after), torque_nm))
            return after - started

        wait_until(
            read,
            lambda elapsed: elapsed >= ZERO_FLUX_WATCH_S,
            timeout_s=ZERO_FLUX_WATCH_S + 1.0,
            what="the dyno's torque from zero flux",
            poll_s=DYNO_POLL_S,
        )
        return readings, *capture_on_bench_clock(
            analyzer, list(PHASES), CAPTURE_RATE_HZ, round(ZERO_FLUX_WATCH_S * CAPTURE_RATE_HZ)
        )

    readings, cap, offset = driveline.steady(rise)
    pwm_on = find_crossing(current_magnitude(cap), PWM_OFF_A, direction="rising")
    assert pwm_on, f"the drive modulates again once the contactors have closed: {pwm_on!r}"
    t_on = pwm_on.value("time_s") + offset
    times, torques = (np.array(column) for column in zip(*readings, strict=True))
    before = torques[times < t_on]
    initial = float(np.mean(before)) if before.size else float(torques[0])
    final = float(np.mean(torques[times >= times[-1] - FINAL_S]))
    level = initial + 0.9 * (final - initial)
    reached = np.flatnonzero((times > t_on) & (torques >= level))
    if reached.size == 0:
        measure(ZERO_FLUX_T90, times[-1] - t_on)
        return
    k = int(reached[0])
    t90 = np.interp(level, torques[k - 1 : k + 1], times[k - 1 : k + 1]) if k > 0 else times[k]
    measure(ZERO_FLUX_T90, float(t90) - t_on)
