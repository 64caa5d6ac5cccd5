"""The motor's torque as the power analyzer's phase currents show it.

Under rotor-flux-oriented control with the flux established, the drive holds the magnetising
(d) current constant and makes torque with the q current alone: T = k·ψ·i_q. The analyzer samples
the three phase currents at up to 10 MS/s, so the current vector's magnitude |i| = √(i_d² + i_q²)
follows the torque without the lag of the dyno's own speed loop or the shaft's inertia; with i_d
read from the currents at zero torque, i_q = √(|i|² − i_d²) is the torque in relative units.

Two things ride on |i| that are not torque, and both are taken out without a time window that
would smear a step:
- the PWM ripple at the switching frequency: the current vector is averaged over one switching
  period;
- harmonics (6k ± 1) and a negative-sequence unbalance, which make |i| ripple at 6·f and 2·f:
  both are locked to the current vector's angle and proportional to its magnitude, so |i| is
  divided by the ripple shape 1 + R(angle) fitted on a steady stretch of the same capture.
"""

from __future__ import annotations

import cmath
import math
from typing import Any

import numpy as np

from hil.acquisition import acquire_on_host_clock
from hil.waveform import Capture, find_crossing

PHASES = ("I1", "I2", "I3")  # analyzer elements 1-3 on the motor phases U, V, W (bench wiring)
SWITCHING_HZ = 10_000.0  # the inverter's PWM frequency f_sw, reference §4.2 [E]
_A = cmath.exp(2j * math.pi / 3.0)
# ripple orders of |i| per electrical revolution of the current vector: unbalance 2, the 5th/7th
# pair 6, the 11th/13th pair 12, and the even orders their products add when they are large
_RIPPLE_ORDERS = tuple(range(2, 26, 2))
# the currents of a drive that has stopped modulating: noise only, far below the magnetising
# current (tens of amperes) of a drive that modulates at any speed
PWM_OFF_A = 5.0
# a capture placed on the bench's clock within this (its end is placed at the capture command's
# sending, so every instant on it is that much early at most): the 10 ms guard INV-05a leaves
# between its level windows and the next step, half of INV-16's 20 ms marginal band. The simulated
# bench brackets its captures in 1-3 ms (30 captures, idle), in up to 8 ms beside three CPU burners
# on two cores, and in 10.1 ms once with three benches at once
CLOCK_TOLERANCE_S = 0.010


def current_vector(cap: Capture, phases: tuple[str, str, str] = PHASES) -> np.ndarray:
    """The amplitude-invariant space vector (2/3)(i_u + a·i_v + a²·i_w) of each sample."""
    u, v, w = (cap.channel(p).astype(np.float64) for p in phases)
    return (2.0 / 3.0) * (u + _A * v + _A * _A * w)


def switching_mean(x: np.ndarray, sample_rate_hz: float, switching_hz: float = SWITCHING_HZ) -> np.ndarray:
    """``x`` averaged over one switching period centred on each sample (edges: shorter windows)."""
    width = max(1, round(sample_rate_hz / switching_hz))
    kernel = np.ones(width) / width
    summed = np.convolve(x, kernel, mode="same")
    counts = np.convolve(np.ones(x.size), kernel, mode="same")
    return summed / counts


def ripple_free_magnitude(vector: np.ndarray, steady: slice) -> np.ndarray:
    """|vector| divided by its angle-locked ripple shape, fitted on the samples ``steady``."""
    magnitude = np.abs(vector)
    angle = np.angle(vector)
    fit_angle = angle[steady]
    relative = magnitude[steady] / np.mean(magnitude[steady]) - 1.0
    basis = np.column_stack([f(k * fit_angle) for k in _RIPPLE_ORDERS for f in (np.cos, np.sin)])
    coefficients, *_ = np.linalg.lstsq(basis, relative, rcond=None)
    shape = np.column_stack([f(k * angle) for k in _RIPPLE_ORDERS for f in (np.cos, np.sin)]) @ coefficients
    return magnitude / (1.0 + shape)


def q_current(magnitude: np.ndarray, d_current: float) -> np.ndarray:
    """√(|i|² − i_d²), zero where noise takes |i| below i_d."""
    return np.sqrt(np.maximum(magnitude * magnitude - d_current * d_current, 0.0))


def capture_on_bench_clock(
    analyzer: Any, traces: list[str], rate_hz: float, samples: int, tolerance_s: float = CLOCK_TOLERANCE_S
) -> tuple[Capture, float]:
    """The most recent ``samples`` of ``traces`` and the offset that puts the capture's instants on
    this process's ``time.monotonic()`` clock (CAN frames and the VCU's sends are stamped on it).

    The analyzer holds its record when the hold command arrives, so the capture's last sample is
    "now": good to the time the command took to be done (a few ms), and refused
    (CaptureClockUncertain) beyond ``tolerance_s``.
    """
    return acquire_on_host_clock(analyzer, traces, rate_hz, samples, tolerance_s)


def current_magnitude(cap: Capture) -> Capture:
    """|i| of the phase currents, averaged over a switching period, as a one-channel capture."""
    magnitude = np.abs(switching_mean(current_vector(cap), cap.sample_rate_hz))
    return Capture.from_arrays(magnitude, cap.sample_rate_hz, ["|i|"], "A", cap.start_s)


def pwm_off_time(cap: Capture, after_s: float | None = None) -> float:
    """When the drive stopped modulating (after ``after_s``): the current vector, never near zero
    while the drive modulates (the magnetising current, PWM ripple and all), falls to the
    analyzer's noise; taken sample by sample, no average to blur the edge. NaN if it did not."""
    raw = Capture.from_arrays(np.abs(current_vector(cap)), cap.sample_rate_hz, ["|i|"], "A", cap.start_s)
    # from after_s, or from the capture's start where after_s lies before it (a check refuses a window
    # reaching outside its capture)
    during = (cap.start_s if after_s is None else max(after_s, cap.start_s), cap.end_s)
    return find_crossing(raw, PWM_OFF_A, direction="falling", during=during).value("time_s")


def mean_around(cap: Capture, channel: str, t_s: float, half_width_s: float) -> float:
    """The mean of ``channel`` over [t_s − half_width_s, t_s + half_width_s] (noise averaged out;
    exact for a channel that ramps linearly)."""
    i0, i1 = cap.index_range((t_s - half_width_s, t_s + half_width_s))
    if i1 - i0 < 2:
        raise ValueError(f"{channel}: the capture has no samples around {t_s:.6f} s")
    return float(np.mean(cap.channel(channel)[i0:i1], dtype=np.float64))


def motor_torque_shape(cap: Capture, idle: tuple[float, float], average_s: float) -> np.ndarray:
    """The motor's torque in relative units (the q current) at each sample, signed by the power
    flow (negative while the motor generates); ``idle``: a window at zero torque, flux established.

    Needs the phase voltages U1-U3 beside the currents for the sign."""
    periods = max(1, round(average_s * SWITCHING_HZ))
    current = switching_mean(current_vector(cap), cap.sample_rate_hz, SWITCHING_HZ / periods)
    voltage = switching_mean(
        current_vector(cap, ("U1", "U2", "U3")), cap.sample_rate_hz, SWITCHING_HZ / periods
    )
    i0, i1 = cap.index_range(idle)
    magnitude = ripple_free_magnitude(current, slice(i0, i1))
    q = q_current(magnitude, float(np.mean(magnitude[i0:i1])))
    return np.where((voltage * np.conj(current)).real < 0.0, -q, q)
