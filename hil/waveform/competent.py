"""The benchmark's yardstick: each streaming check in numpy as an experienced engineer writes it.

Same definitions and the same fail-closed duty as the checks (a NaN or inf is found, from the sums or
the min/max screen that is computed anyway), none of the compiled kernels: argmax rather than
nonzero, a min/max screen per chunk before any per-sample work, sums of float32 accumulated in
float64 by the reduction itself rather than by a float64 copy. reference.py keeps the straightforward
versions. The benchmark checks each result equal to the library's before it times it.
"""

from __future__ import annotations

import math

import numpy as np

CHUNK = 1 << 20  # samples; a min/max screen of a chunk reads it from cache the second time


def rms_per_cycle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-cycle RMS between rising zero crossings (hysteresis 0) and the crossings' interpolated
    positions in fractional samples."""
    below = x < 0
    c = np.flatnonzero(below[:-1] & ~below[1:]) + 1
    # The head before the first crossing is summed too: every sample is in one sum, so a NaN shows.
    sums = np.add.reduceat(np.square(x), np.concatenate([[0], c]), dtype=np.float64)
    if not math.isfinite(float(sums.sum())):
        raise ValueError("non-finite sample")
    x0, x1 = x[c - 1].astype(np.float64), x[c].astype(np.float64)
    return np.sqrt(sums[1:-1] / np.diff(c)), c - 1 - x0 / (x1 - x0)


def outside_count(x: np.ndarray, lower: float, upper: float) -> int:
    """Samples outside [lower, upper]; chunks whose min and max lie inside are not looked at further."""
    count = 0
    for a in range(0, x.size, CHUNK):
        chunk = x[a : a + CHUNK]
        lo, hi = chunk.min(), chunk.max()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("non-finite sample")
        if lo < lower or hi > upper:
            count += int(np.count_nonzero((chunk < lower) | (chunk > upper)))
    return count


def outside_table(x: np.ndarray, sample_rate_hz: float, times: np.ndarray, values: np.ndarray) -> int:
    """Samples outside ±bound, the bound a piecewise-linear table; a chunk is screened against the
    bound's smallest value over it (at its ends or at a knot inside) before it is evaluated."""
    count = 0
    for a in range(0, x.size, CHUNK):
        chunk = x[a : a + CHUNK]
        ta, tb = a / sample_rate_hz, (a + chunk.size - 1) / sample_rate_hz
        knots = values[(times > ta) & (times < tb)]
        tightest = min(float(np.interp(ta, times, values)), float(np.interp(tb, times, values)), *knots)
        lo, hi = chunk.min(), chunk.max()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("non-finite sample")
        if lo < -tightest or hi > tightest:
            bound = np.interp(np.arange(a, a + chunk.size) / sample_rate_hz, times, values)
            count += int(np.count_nonzero((chunk < -bound) | (chunk > bound)))
    return count


def ripple(x: np.ndarray) -> tuple[float, float, float]:
    """(peak-to-peak, AC RMS, mean), sums about the first sample so a DC level keeps its precision."""
    ref = x[0]
    buf = np.empty(min(CHUNK, x.size), dtype=x.dtype)
    lo, hi, s1, s2 = math.inf, -math.inf, 0.0, 0.0
    for a in range(0, x.size, CHUNK):
        d = buf[: min(CHUNK, x.size - a)]
        np.subtract(x[a : a + CHUNK], ref, out=d)
        lo, hi = min(lo, float(d.min())), max(hi, float(d.max()))
        s1 += float(d.sum(dtype=np.float64))
        s2 += float(np.dot(d, d))
    if not (math.isfinite(s1) and math.isfinite(s2)):
        raise ValueError("non-finite sample")
    mean = s1 / x.size
    return hi - lo, math.sqrt(max(s2 / x.size - mean * mean, 0.0)), mean + float(ref)


def step_info(x: np.ndarray, sample_rate_hz: float) -> dict[str, float]:
    """The checker's step_info from the first sample: initial value that sample, final value the mean of
    the last 5 %, 10-90 % rise, overshoot, settling into ±2 % of the step."""
    initial = float(x[0])
    final = float(np.mean(x[x.size - max(1, x.size // 20) :], dtype=np.float64))
    delta = final - initial
    up = delta > 0

    def first(level: float, start: int) -> int:
        hit = x[start:] >= level if up else x[start:] <= level
        return start + int(np.argmax(hit))

    lower = first(initial + 0.1 * delta, 0)
    upper = first(initial + 0.9 * delta, lower)
    lo, hi = x.min(), x.max()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("non-finite sample")
    band = 0.02 * abs(delta)
    out = (x <= x.dtype.type(final - band)) | (x >= x.dtype.type(final + band))
    last_out = x.size - 1 - int(np.argmax(out[::-1]))
    toward = hi if up else lo
    return {
        "rise_time_s": (upper - lower) / sample_rate_hz,
        "overshoot_pct": max(0.0, (float(toward) - final) / delta) * 100.0,
        "settling_time_s": (last_out + 1) / sample_rate_hz if last_out + 1 < x.size else math.nan,
    }


def first_rising(x: np.ndarray, level: float) -> int | None:
    """Index of the first rising crossing of ``level`` (armed below it, fired at or above it); every
    chunk is screened by its min or max, which also finds a NaN or inf."""
    armed = fired = None
    for a in range(0, x.size, CHUNK):
        chunk = x[a : a + CHUNK]
        lo, hi = chunk.min(), chunk.max()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError("non-finite sample")
        start = 0
        if armed is None and lo < level:
            armed = a + int(np.argmax(chunk < level))
            start = armed - a + 1
        if armed is not None and fired is None and hi >= level:
            hit = chunk[start:] >= level
            j = int(np.argmax(hit))
            if hit.size and hit[j]:
                fired = a + start + j
    return fired
