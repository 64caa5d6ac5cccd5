"""Analyzer waveforms synthesised on demand from the recorded plant trajectory: three-phase U/I at
the drive's electrical angle with 5th/7th harmonics (5th negative, 7th positive sequence, as a
six-pulse distortion has them) and noise; element 4 the DC link. Noise comes in seeded blocks, so
any slice of a capture reads the same values and costs only its own length."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOISE_BLOCK = 65536
_PHASE_SHIFT = {1: 0.0, 2: -2.0 * math.pi / 3.0, 3: 2.0 * math.pi / 3.0}


@dataclass(frozen=True)
class WaveformShape:
    harmonic_5_ratio: float
    harmonic_7_ratio: float
    noise_ratio: float
    noise_floor: float


@dataclass(frozen=True)
class CaptureWindow:
    """One frozen acquisition: ``length`` samples at ``rate_hz`` from ``start_s`` (simulated time)."""

    start_s: float
    rate_hz: float
    length: int
    trajectory: dict[str, np.ndarray]
    seed: tuple[int, ...]


def trace_key(trace: str) -> tuple[str, int]:
    return trace[0], int(trace[1:])


def synthesise(window: CaptureWindow, trace: str, first: int, last: int, shape: WaveformShape) -> np.ndarray:
    """Samples ``first..last`` (inclusive) of ``trace`` (U1..U7, I1..I7) in the capture."""
    quantity, element = trace_key(trace)
    index = np.arange(first, last + 1)
    times = window.start_s + index / window.rate_hz
    traj = window.trajectory

    def at(column: str) -> np.ndarray:
        return np.interp(times, traj["time_s"], traj[column])

    if element in _PHASE_SHIFT:
        angle = at("electrical_angle_rad") + _PHASE_SHIFT[element]
        if quantity == "U":
            amplitude = math.sqrt(2.0) * at("phase_voltage_rms_v")
        else:
            amplitude = math.sqrt(2.0) * at("phase_current_rms_a")
            angle -= at("current_lag_rad")
        clean = amplitude * (
            np.sin(angle)
            + shape.harmonic_5_ratio * np.sin(5.0 * angle)
            + shape.harmonic_7_ratio * np.sin(7.0 * angle)
        )
    elif element == 4:
        amplitude = np.abs(at("dc_voltage_v" if quantity == "U" else "dc_current_a"))
        clean = at("dc_voltage_v" if quantity == "U" else "dc_current_a")
    else:
        amplitude = np.zeros(len(index))
        clean = amplitude
    sigma = shape.noise_ratio * amplitude + shape.noise_floor
    return clean + sigma * _noise((*window.seed, ord(quantity), element), first, last)


def _noise(seed: tuple[int, ...], first: int, last: int) -> np.ndarray:
    blocks = [
        np.random.default_rng((*seed, block)).standard_normal(NOISE_BLOCK)
        for block in range(first // NOISE_BLOCK, last // NOISE_BLOCK + 1)
    ]
    offset = (first // NOISE_BLOCK) * NOISE_BLOCK
    return np.concatenate(blocks)[first - offset : last - offset + 1]
