"""INV-04's trip time read off the phase currents: from the crossing of the trip level to the
currents stopping, whether the drive trips within half a switching period of the crossing (where
the period's average never shows the level) or long after it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hil.waveform import Capture
from test_suites.inverter.currents import PHASES
from test_suites.inverter.test_inv04_phase_overcurrent import _trip_latency

RATE_HZ = 1_000_000.0
LEVEL_A, HELD_A = 200.0, 135.0
RISE_A_PER_S = 50_000.0  # the step's 50 A/ms
CROSSED_S = 0.030


def _tripping(latency_s: float) -> Capture:
    """Balanced 50 Hz phase currents held at 135 A, rising through 200 A at ``CROSSED_S`` with a
    10 kHz ripple on them, stopped ``latency_s`` later."""
    t = np.arange(round(0.05 * RATE_HZ)) / RATE_HZ
    amplitude = np.clip(LEVEL_A + RISE_A_PER_S * (t - CROSSED_S), HELD_A, None)
    amplitude = amplitude * (1.0 + 0.01 * np.sin(2 * math.pi * 10_000.0 * t))
    amplitude[t >= CROSSED_S + latency_s] = 0.0
    noise = np.random.default_rng(3).normal(0.0, 0.2, (3, t.size))
    phases = [amplitude * np.cos(2 * math.pi * 50.0 * t - k * 2 * math.pi / 3) for k in range(3)]
    return Capture.from_arrays(np.array(phases) + noise, RATE_HZ, list(PHASES), ["A"] * 3, 0.0)


@pytest.mark.parametrize("latency_s", [20e-6, 45e-6, 80e-6, 150e-6, 500e-6])
def test_the_trip_time_runs_from_the_crossing_to_the_currents_stopping(latency_s):
    assert _trip_latency(_tripping(latency_s), LEVEL_A) == pytest.approx(latency_s, abs=5e-6)


def test_a_drive_that_does_not_trip_has_no_finite_trip_time():
    cap = _tripping(1.0)  # stops after the capture ends
    assert _trip_latency(cap, LEVEL_A) == math.inf
