"""Straightforward full-array numpy versions of the checks: the yardstick for the accuracy tests and
the baseline of the benchmark. Same definitions, none of the streaming."""

from __future__ import annotations

import numpy as np


def rising_crossings(x: np.ndarray, level: float = 0.0) -> np.ndarray:
    return np.flatnonzero((x[:-1] < level) & (x[1:] >= level)) + 1


def rms_per_cycle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = rising_crossings(x)
    squares = x.astype(np.float64) ** 2
    return c, np.sqrt(np.add.reduceat(squares, c)[:-1] / np.diff(c))


def outside_band(
    x: np.ndarray, lower: float | np.ndarray, upper: float | np.ndarray
) -> tuple[int, np.ndarray]:
    """Count of samples outside [lower, upper] and their runs as (first, last) index rows."""
    out = (x < lower) | (x > upper)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], out.astype(np.int8), [0]])))
    return int(out.sum()), np.column_stack([edges[0::2], edges[1::2] - 1])


def ripple(x: np.ndarray) -> tuple[float, float, float]:
    x64 = x.astype(np.float64)
    return float(x64.max() - x64.min()), float(np.sqrt(np.mean((x64 - x64.mean()) ** 2))), float(x64.mean())


def first_crossing_time(x: np.ndarray, level: float, sample_rate_hz: float, rising: bool = True) -> float:
    y = x.astype(np.float64)
    hit = (y[:-1] < level) & (y[1:] >= level) if rising else (y[:-1] > level) & (y[1:] <= level)
    i = int(np.argmax(hit)) + 1
    if not hit[i - 1]:
        return np.nan
    return (i - 1 + (level - y[i - 1]) / (y[i] - y[i - 1])) / sample_rate_hz


def fundamental(x: np.ndarray, sample_rate_hz: float) -> tuple[float, float, float]:
    """(frequency, peak amplitude, phase in degrees): frequency over whole cycles between rising
    crossings, amplitude and phase by least squares of [1, cos, sin] over the samples between them."""
    y = x.astype(np.float64)
    c = rising_crossings(y)
    t = [(i - 1 + (0 - y[i - 1]) / (y[i] - y[i - 1])) / sample_rate_hz for i in (c[0], c[-1])]
    f = (c.size - 1) / (t[1] - t[0])
    w = 2 * np.pi * f * np.arange(c[0], c[-1]) / sample_rate_hz
    basis = np.column_stack([np.ones(w.size), np.cos(w), np.sin(w)])
    _, a, b = np.linalg.lstsq(basis, y[c[0] : c[-1]], rcond=None)[0]
    return f, float(np.hypot(a, b)), float(np.degrees(np.arctan2(-b, a)))


def thd_f(x: np.ndarray, sample_rate_hz: float, nominal_hz: float = 50.0) -> float:
    """THD_F from IEC harmonic groups (10-cycle frames), RMS-aggregated over frames."""
    frame = round(10 * sample_rate_hz / nominal_hz)
    n = x.size // frame
    spec = (
        np.abs(np.fft.rfft(x[: n * frame].astype(np.float64).reshape(n, frame), axis=1)) * np.sqrt(2) / frame
    )
    groups = np.zeros((n, 51))
    for h in range(1, 51):
        k = 10 * h
        groups[:, h] = np.sqrt(
            0.5 * spec[:, k - 5] ** 2
            + np.sum(spec[:, k - 4 : k + 5] ** 2, axis=1)
            + 0.5 * spec[:, k + 5] ** 2
        )
    agg = np.sqrt(np.mean(groups**2, axis=0))
    return float(np.sqrt(np.sum(agg[2:] ** 2)) / agg[1])


def ramp_slope(x: np.ndarray, sample_rate_hz: float) -> float:
    t = np.arange(x.size) / sample_rate_hz
    return float(np.polyfit(t, x.astype(np.float64), 1)[0])


def step_info(y: np.ndarray, sample_rate_hz: float, yfinal: float) -> dict[str, float]:
    """python-control's step_info definitions on full arrays (initial value 0, times from sample 0)."""
    y = y.astype(np.float64)
    sgn = np.sign(yfinal)
    lower = np.nonzero(sgn * (y - 0.1 * yfinal) >= 0)[0][0]
    upper = np.nonzero(sgn * (y - 0.9 * yfinal) >= 0)[0][0]
    outside = np.nonzero(np.abs(y / yfinal - 1) >= 0.02)[0]
    settled = 0 if outside.size == 0 else outside[-1] + 1
    return {
        "rise_time_s": (upper - lower) / sample_rate_hz,
        "settling_time_s": settled / sample_rate_hz if settled < y.size else np.nan,
        "overshoot_pct": max(0.0, 100.0 * (np.abs((sgn * y).max()) - abs(yfinal)) / abs(yfinal)),
        "settling_min": min(y[upper:].min(), yfinal),
        "settling_max": max(y[upper:].max(), yfinal),
    }
