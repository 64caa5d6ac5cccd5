"""Single-pass checks over whole captures: per-cycle RMS, envelope and is-constant, ripple.

Each channel is read chunk by chunk; every pass after the first reads the chunk from cache, and
buffers are reused across chunks, so memory does not grow with the capture. Where the package has
its compiled kernels, per-cycle RMS and ripple read each channel in one call, and the envelope
checks screen each chunk with one.
"""

from __future__ import annotations

import math

import numpy as np

from hil.waveform import kernels
from hil.waveform.bounds import Bound, BoundSpec
from hil.waveform.capture import Capture
from hil.waveform.chunks import RunRecorder, chunk_len, chunks, per_channel, sum_squares, sum_values
from hil.waveform.crossing import EdgeScanner, interpolate_time
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity, Trace


def cycle_sums(row: np.ndarray, i0: int, i1: int, hysteresis: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rising zero crossings (sample indices) and the sum of squares of each complete cycle between them."""
    scanner = EdgeScanner(0.0, hysteresis, rising=True)
    x = row[i0:i1]
    if kernels.usable(x):
        found, cycle, total = kernels.compiled.cycles(x, scanner.fire_at, scanner.arm_at)
        if math.isfinite(total):  # else NaN or inf: numpy's semantics
            return np.frombuffer(found, dtype=np.int64) + i0, np.frombuffer(cycle, dtype=np.float64)
    crossings: list[int] = []
    sums: list[float] = []
    open_sum = 0.0
    for a, b in chunks(i0, i1, chunk_len(row.dtype)):
        x = row[a:b]
        start = 0
        for e in scanner.scan(x, a):
            open_sum += sum_squares(x[start : e - a])
            if crossings:
                sums.append(open_sum)
            crossings.append(e)
            open_sum = 0.0
            start = e - a
        open_sum += sum_squares(x[start:])
    return np.asarray(crossings, dtype=np.int64), np.asarray(sums, dtype=np.float64)


def rms(
    cap: Capture,
    channel: str | list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
) -> CheckResult:
    """RMS of each cycle, cycles running from one rising zero crossing to the next.

    Passes when every complete cycle's RMS lies in [low, high]; the cycles outside are the violations.
    """
    i0, i1 = cap.index_range(during)
    outcomes = []
    measured = per_channel(cap, channel, i0, i1, lambda row: cycle_sums(row, i0, i1, hysteresis))
    for (name, unit, row), (crossings, sums) in measured:
        limit = Limit(low, high, unit)
        if sums.size == 0:
            detail = f"no complete cycle ({crossings.size} rising zero crossings)"
            outcomes.append(ChannelOutcome(name, False, {"n_cycles": Quantity(0)}, detail=detail))
            continue
        per_cycle = np.sqrt(sums / np.diff(crossings))
        starts = np.array([interpolate_time(cap, row, int(c), 0.0) for c in crossings])
        bad = ~((low is None or per_cycle >= low) & (high is None or per_cycle <= high))
        bad = bad if isinstance(bad, np.ndarray) else np.zeros(per_cycle.size, bool)
        violations = [(starts[i], starts[i + 1]) for i in np.flatnonzero(bad)]
        values = {
            "rms": Quantity(float(np.sqrt(sums.sum() / (crossings[-1] - crossings[0]))), unit),
            "rms_min": Quantity(float(per_cycle.min()), unit),
            "rms_max": Quantity(float(per_cycle.max()), unit),
            "n_cycles": Quantity(per_cycle.size),
            "per_cycle": Quantity(per_cycle, unit),
            "cycle_start_s": Quantity(starts[:-1], "s"),
        }
        detail = (
            f"per-cycle RMS {per_cycle.min():.6g}..{per_cycle.max():.6g} {unit} over {per_cycle.size} cycles"
        )
        if bad.any():
            detail += f", {int(bad.sum())} outside {limit}"
        series = Trace(starts[:-1], per_cycle, "RMS per cycle", unit)
        outcomes.append(ChannelOutcome(name, not bad.any(), values, violations, detail, series))
    return CheckResult("rms", outcomes, {"rms": Limit(low, high)}, cap, during)


def envelope_scan(
    row: np.ndarray, i0: int, i1: int, lower: Bound, upper: Bound
) -> tuple[RunRecorder, float, float]:
    """Samples outside [lower, upper] and the extremes of the signal, one read of each chunk."""
    recorder = RunRecorder()
    size = chunk_len(row.dtype)
    flagged = above = None  # buffers for the chunks the screen does not clear, usually none
    lowest, highest = math.inf, -math.inf
    spans = np.array(list(chunks(i0, i1, size)), dtype=np.int64).reshape(-1, 2)
    tightest_lower = lower.extremes(spans[:, 0], spans[:, 1]).tolist()
    tightest_upper = upper.extremes(spans[:, 0], spans[:, 1]).tolist()
    for (a, b), floor, ceiling in zip(spans.tolist(), tightest_lower, tightest_upper, strict=True):
        x = row[a:b]
        mn, mx = kernels.min_max(x)
        lowest, highest = min(lowest, mn), max(highest, mx)
        if mn >= floor and mx <= ceiling:
            continue
        if flagged is None:
            flagged, above = np.empty(size, dtype=bool), np.empty(size, dtype=bool)
        out, hi = flagged[: b - a], above[: b - a]
        np.less(x, lower.values(a, b), out=out)
        np.greater(x, upper.values(a, b), out=hi)
        np.logical_or(out, hi, out=out)
        recorder.add(out, a)
    return recorder, lowest, highest


def in_envelope(
    cap: Capture,
    channel: str | list[str] | None = None,
    lower: BoundSpec = None,
    upper: BoundSpec = None,
    during: tuple[float, float] | None = None,
    strictness: float = 1.0,
) -> CheckResult:
    """Signal between a lower and an upper bound for at least ``strictness`` of the samples.

    Bounds are constants, tables of (time_s, value) rows interpolated linearly (held beyond the
    ends), or arrays with one value per sample of the window.
    """
    return _envelope("in_envelope", cap, channel, lower, upper, during, strictness, " the envelope")


def is_constant(
    cap: Capture,
    value: float,
    tol: float,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    strictness: float = 1.0,
) -> CheckResult:
    """Signal within ``value ± tol`` for at least ``strictness`` (0..1) of the time."""
    band = f" {value:g} ± {tol:g}"
    return _envelope("is_constant", cap, channel, value - tol, value + tol, during, strictness, band)


def _envelope(
    check: str,
    cap: Capture,
    channel: str | list[str] | None,
    lower: BoundSpec,
    upper: BoundSpec,
    during: tuple[float, float] | None,
    strictness: float,
    band: str,
) -> CheckResult:
    if not 0.0 <= strictness <= 1.0:
        raise ValueError(f"{check}: strictness is a fraction of time in 0..1, got {strictness}")
    i0, i1 = cap.index_range(during)
    n = i1 - i0
    lo, hi = Bound(lower, cap, i0, i1, "lower"), Bound(upper, cap, i0, i1, "upper")
    outcomes = []
    scans = per_channel(cap, channel, i0, i1, lambda row: envelope_scan(row, i0, i1, lo, hi))
    for (name, unit, _), (recorder, lowest, highest) in scans:
        inside = 1.0 - recorder.count / n if n else 0.0
        unit_text = f" {unit}" if check == "is_constant" and unit else ""
        ok = n > 0 and inside >= strictness
        values = {
            "fraction_inside": Quantity(inside),
            "min": Quantity(lowest, unit),
            "max": Quantity(highest, unit),
            "n_violations": Quantity(recorder.n_runs),
        }
        detail = (
            f"{inside * 100:.4g} % of {n} samples inside{band}{unit_text} "
            f"(strictness {strictness * 100:g} %), "
            f"range {lowest:.6g}..{highest:.6g} {unit}"
        )
        if recorder.n_runs:
            detail += f", {recorder.n_runs} violations"
        outcomes.append(
            ChannelOutcome(
                name,
                ok,
                values,
                recorder.intervals(cap),
                detail,
                lower=Trace(*lo.trace_points(i0, i1), "lower", unit) if lower is not None else None,
                upper=Trace(*hi.trace_points(i0, i1), "upper", unit) if upper is not None else None,
            )
        )
    limits = {"fraction_inside": Limit(strictness, None)}
    return CheckResult(check, outcomes, limits, cap, during)


def ripple_stats(row: np.ndarray, i0: int, i1: int) -> tuple[float, float, float, float]:
    """(min, max, mean, AC RMS); sums are taken about the first sample so that a large DC level
    does not eat the precision of the ripple."""
    ref = row[i0]
    x = row[i0:i1]
    moments = kernels.compiled.moments(x, float(ref)) if kernels.usable(x) else None
    if moments is None or not all(map(math.isfinite, moments[2:])):  # NaN, inf: numpy's semantics
        moments = _shifted_moments(row, i0, i1, ref)
    lowest, highest, s1, s2 = moments
    n = i1 - i0
    mean = s1 / n
    ac = math.sqrt(max(s2 / n - mean * mean, 0.0))
    return lowest + float(ref), highest + float(ref), mean + float(ref), ac


def _shifted_moments(row: np.ndarray, i0: int, i1: int, ref: np.floating) -> tuple[float, ...]:
    size = chunk_len(row.dtype)
    shifted = np.empty(size, dtype=row.dtype)
    lowest, highest = math.inf, -math.inf
    s1 = s2 = 0.0
    for a, b in chunks(i0, i1, size):
        d = shifted[: b - a]
        np.subtract(row[a:b], ref, out=d)
        lowest = min(lowest, float(np.minimum.reduce(d)))
        highest = max(highest, float(np.maximum.reduce(d)))
        s1 += sum_values(d)
        s2 += sum_squares(d)
    return lowest, highest, s1, s2


def ripple(
    cap: Capture,
    channel: str | list[str] | None = None,
    max_peak_to_peak: float | None = None,
    max_rms: float | None = None,
    during: tuple[float, float] | None = None,
) -> CheckResult:
    """Peak-to-peak and RMS of what rides on the mean (DC bus ripple, current ripple)."""
    i0, i1 = cap.index_range(during)
    outcomes = []
    for (name, unit, _), (lowest, highest, mean, ac) in per_channel(
        cap, channel, i0, i1, lambda row: ripple_stats(row, i0, i1)
    ):
        p2p = highest - lowest
        ok_p2p = max_peak_to_peak is None or p2p <= max_peak_to_peak
        ok_rms = max_rms is None or ac <= max_rms
        values = {
            "peak_to_peak": Quantity(p2p, unit),
            "rms": Quantity(ac, unit),
            "mean": Quantity(mean, unit),
            "min": Quantity(lowest, unit),
            "max": Quantity(highest, unit),
        }
        detail = f"ripple {p2p:.6g} {unit} peak-to-peak, {ac:.6g} {unit} RMS on {mean:.6g} {unit}"
        if not ok_p2p:
            detail += f", peak-to-peak > {max_peak_to_peak:g} {unit}"
        if not ok_rms:
            detail += f", RMS > {max_rms:g} {unit}"
        outcomes.append(ChannelOutcome(name, ok_p2p and ok_rms, values, [], detail))
    limits = {"peak_to_peak": Limit(None, max_peak_to_peak), "rms": Limit(None, max_rms)}
    return CheckResult("ripple", outcomes, limits, cap, during)
