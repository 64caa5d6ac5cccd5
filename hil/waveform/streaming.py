"""Single-pass checks over whole captures: per-cycle RMS, envelope and is-constant, ripple.

Each channel is read chunk by chunk; every pass after the first reads the chunk from cache, and
buffers are reused across chunks, so memory does not grow with the capture. Where the package has
its compiled kernels, per-cycle RMS and ripple read each channel in one call, and the envelope
checks screen all of a channel's chunks with one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hil.waveform import kernels
from hil.waveform.bounds import Bound, BoundSpec
from hil.waveform.capture import Capture
from hil.waveform.chunks import MAX_INTERVALS, RunRecorder, chunk_len, chunks, sum_squares, sum_values
from hil.waveform.crossing import EdgeScanner
from hil.waveform.parallel import map_channels, threads
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity, Trace
from hil.waveform.scope import Scope, numbers, scope, tolerances

# A channel's zero crossings are scanned in spans of this many samples (a whole number of the
# kernels' blocks), which the threads share: noise about zero makes a crossing every few samples, and
# a channel of it took the one thread that scanned it four times as long as a clean channel, while
# the other threads waited. Each thread takes the next span in the kernel, without the GIL: taken one
# call at a time, a span cost two threads about 7 us more in queueing for the GIL, a tenth of a
# clean span. Spans are joined in order, whatever the threads, so the sums do not depend on how many
# there are.
SPAN = 1 << 18

CycleSums = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def cycle_sums(x: np.ndarray, hysteresis: float = 0.0) -> CycleSums:
    """Rising zero crossings of ``x`` (the firing samples' indices), where the line from the sample before
    meets zero (fractional indices), the sum of squares of each complete cycle between them, and the sum
    of squares of all samples (not finite when a sample is not)."""
    pieces, total = cycle_pieces_of([x], hysteresis)[0]
    if not pieces:
        return np.empty(0, np.int64), np.empty(0), np.empty(0), total
    found, at, sums = (np.concatenate(parts) for parts in zip(*pieces, strict=True))
    return found, at, sums, total


# (crossings, where they meet zero, the sums of squares of the cycles they close): a channel's crossings
# in pieces, one per span that has any, joined by concatenation. The first piece closes one cycle fewer
# than it has crossings; every later one closes as many, the first of them opened by the piece before.
Pieces = list[tuple[np.ndarray, np.ndarray, np.ndarray]]
# What a span's scan leaves (the kernel's ``cycles``): its crossings (int64 items), where they meet zero
# and the sums of squares of the cycles closed inside it (float64 items; with a sample rate, the
# crossings' instants and the cycles' RMS instead), its sum of squares, its sums before its first
# crossing and after its last, and the sum of its closed cycles' sums
Span = tuple[Any, Any, Any, float, float, float, float]


def cycle_pieces_of(rows: list[np.ndarray], hysteresis: float = 0.0) -> list[tuple[Pieces, float]]:
    """Each row's crossings in pieces, and its sum of squares (see ``scan_spans``)."""
    return [_pieces(parts) for parts in scan_spans(rows, hysteresis)]


def scan_spans(
    rows: list[np.ndarray], hysteresis: float = 0.0, timing: tuple[float, float] | None = None
) -> list[list[Span]]:
    """Each row's spans in order, scanned by the threads (hil.waveform.parallel). ``timing`` (sample
    rate, start time): each span's crossings as instants and its cycles as RMS, made by the thread
    that scanned it. Without the kernels a row is one span that opens with its first crossing."""
    if not rows:
        return []
    scanner = EdgeScanner(0.0, hysteresis, rising=True)
    rate_hz, start_s = timing or (0.0, 0.0)
    if not all(kernels.usable(x) for x in rows):

        def whole(x: np.ndarray) -> list[Span]:
            found, at, sums, total = _cycle_sums_numpy(x, hysteresis)
            closed = float(np.add.reduce(sums))
            if timing is not None:
                at = at / rate_hz + start_s
                sums = np.sqrt(sums / np.diff(found))
            return [(found, at, sums, total, 0.0, 0.0, closed)]

        return map_channels(whole, rows, max(x.nbytes for x in rows))
    fire_at, arm_at = scanner.fire_at, scanner.arm_at
    spans = [(k, a, min(a + SPAN, x.size)) for k, x in enumerate(rows) for a in range(0, x.size, SPAN)]
    table, taken = np.array(spans, dtype=np.int64), np.zeros(1, dtype=np.int64)

    def share(_: int) -> list[tuple[int, Span]]:
        """The spans this call took, until none is left: each thread's one call takes span after span
        without the GIL (the kernels' ``cycles_shared``)."""
        return kernels.compiled.cycles_shared(rows, table, taken, fire_at, arm_at, 0.0, rate_hz, start_s)

    scanned: list[Span | None] = [None] * len(spans)
    workers = range(threads())
    for part in map_channels(share, workers, sum(x.nbytes for x in rows) // len(workers)):
        for i, span in part:
            scanned[i] = span
    joined: list[list[Span]] = [[] for _ in rows]
    for (k, _, _), part in zip(spans, scanned, strict=True):
        joined[k].append(part)
    return joined


def _pieces(parts: list[Span]) -> tuple[Pieces, float]:
    """One channel's pieces from its spans' results in order: the cycle open at a span's end closes at
    the next span's first crossing, with the sums of squares on both sides of the seam."""
    pieces: Pieces = []
    total, open_sum = 0.0, None
    for crossings, where, closed, span_total, head, tail, _ in parts:
        total += span_total
        if not len(crossings):
            open_sum = None if open_sum is None else open_sum + tail
            continue
        sums = np.frombuffer(closed)
        if open_sum is not None:
            sums = np.concatenate([[open_sum + head], sums])
        pieces.append((np.frombuffer(crossings, np.int64), np.frombuffer(where), sums))
        open_sum = tail
    return pieces, total


def _cycle_sums_numpy(x: np.ndarray, hysteresis: float) -> CycleSums:
    scanner = EdgeScanner(0.0, hysteresis, rising=True)  # its state runs from chunk to chunk
    crossings: list[np.ndarray] = []
    sums: list[np.ndarray] = []
    open_sum = total = 0.0
    size = chunk_len(x.dtype)
    buffer = np.empty(size)
    for a, b in chunks(0, x.size, size):
        squares = buffer[: b - a]
        np.copyto(squares, x[a:b])  # float32 squares in float64: see chunks.sum_squares
        np.square(squares, out=squares)
        total += float(np.add.reduce(squares))
        events = np.asarray(scanner.scan(x[a:b], 0), dtype=np.int64)
        if events.size == 0:
            open_sum += float(np.add.reduce(squares))
            continue
        parts = np.add.reduceat(squares, events)  # [e_k, e_k+1) and the last to the chunk's end
        closing = np.concatenate([[open_sum + float(np.add.reduce(squares[: events[0]]))], parts[:-1]])
        sums.append(closing if crossings else closing[1:])
        crossings.append(events + a)
        open_sum = float(parts[-1])
    found = np.concatenate(crossings) if crossings else np.empty(0, np.int64)
    x0, x1 = x[found - 1].astype(np.float64), x[found].astype(np.float64)
    with np.errstate(invalid="ignore"):  # a NaN next to a crossing: the caller refuses the channel
        frac = np.divide(-x0, x1 - x0, out=np.ones_like(x0), where=x1 != x0)
    cycle = np.concatenate(sums) if sums else np.empty(0)
    return found, found - 1 + frac, cycle, total


def rms(
    cap: Capture,
    channel: str | list[str] | None = None,
    low: float | None = None,
    high: float | None = None,
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """RMS of each cycle, cycles running from one rising zero crossing to the next.

    Passes when every complete cycle's RMS lies in [low, high]; the cycles outside are the violations.
    ``clip`` and ``nonfinite``: see hil.waveform.scope.
    """
    numbers("rms", low=low, high=high, hysteresis=hysteresis)
    sc = scope("rms", cap, channel, during, clip, nonfinite)
    outcomes = []
    timing = (sc.cap.sample_rate_hz, sc.cap.start_s)
    scanned = scan_spans([x for _, _, x in sc.rows], hysteresis, timing)
    for (name, unit, x), spans in zip(sc.rows, scanned, strict=True):
        starts, per_cycle, n_crossings, first, last, sum_sq, total = _joined(spans)
        refused = sc.refusal(name, x, not math.isfinite(total))
        if refused:
            outcomes.append(refused)
            continue
        limit = Limit(low, high, unit)
        if n_crossings < 2:
            detail = f"no complete cycle ({n_crossings} rising zero crossings)"
            outcomes.append(ChannelOutcome(name, False, {"n_cycles": Quantity(0)}, detail=detail))
            continue
        if low is None and high is None:
            where, n_bad = np.empty(0, np.int64), 0
        else:
            bad = ~((low is None or per_cycle >= low) & (high is None or per_cycle <= high))
            where, n_bad = np.flatnonzero(bad)[:MAX_INTERVALS], int(np.count_nonzero(bad))
        violations = list(zip(starts[where].tolist(), starts[where + 1].tolist(), strict=True))
        lowest, highest = float(per_cycle.min()), float(per_cycle.max())
        values = {
            "rms": Quantity(float(np.sqrt(sum_sq / (last - first))), unit),
            "rms_min": Quantity(lowest, unit),
            "rms_max": Quantity(highest, unit),
            "n_cycles": Quantity(per_cycle.size),
            "per_cycle": Quantity(per_cycle, unit),
            "cycle_start_s": Quantity(starts[:-1], "s"),
        }
        detail = f"per-cycle RMS {lowest:.6g}..{highest:.6g} {unit} over {per_cycle.size} cycles"
        if n_bad:
            detail += f", {n_bad} outside {limit}"
        series = Trace(starts[:-1], per_cycle, "RMS per cycle", unit)
        outcomes.append(ChannelOutcome(name, not n_bad, values, violations, detail, series))
    return sc.result(outcomes, {"rms": Limit(low, high)})


def _joined(spans: list[Span]) -> tuple[np.ndarray, np.ndarray, int, int, int, float, float]:
    """A channel's spans (scanned with its timing) as ``rms`` reads them: each crossing's instant, each
    cycle's RMS, the count of crossings, the first and the last, the sums of squares of the complete
    cycles and of every sample (see the kernels' ``join_cycles``)."""
    if isinstance(spans[0][0], np.ndarray):  # the numpy path: the row is one span
        ((found, instants, per_cycle, total, _, _, closed),) = spans
        first, last = (int(found[0]), int(found[-1])) if found.size else (-1, -1)
        return instants, per_cycle, found.size, first, last, closed, total
    starts, per_cycle, n, first, last, sum_sq, total = kernels.compiled.join_cycles(spans)
    return np.frombuffer(starts), np.frombuffer(per_cycle), n, first, last, sum_sq, total


def envelope_scan(
    row: np.ndarray, i0: int, i1: int, lower: Bound, upper: Bound
) -> tuple[RunRecorder, float, float, bool]:
    """Samples outside [lower, upper], the extremes of the signal, and whether a sample may not be
    finite; each chunk is screened by its min and max, and read again only where they come close to
    a bound."""
    recorder = RunRecorder()
    size = chunk_len(row.dtype)
    spans = np.array(list(chunks(i0, i1, size)), dtype=np.int64).reshape(-1, 2)
    lows, highs, suspect = kernels.chunk_min_max(row[i0:i1], size)
    lowest, highest = float(lows.min()), float(highs.max())
    floors, ceilings = lower.extremes(spans[:, 0], spans[:, 1]), upper.extremes(spans[:, 0], spans[:, 1])
    # A NaN extreme (numpy path) compares false: its chunk is read again, as one that comes close.
    clear = (lows >= floors) & (highs <= ceilings)
    if clear.all():
        return recorder, lowest, highest, suspect
    flagged, above = np.empty(size, dtype=bool), np.empty(size, dtype=bool)
    for a, b in spans[~clear].tolist():
        x = row[a:b]
        out, hi = flagged[: b - a], above[: b - a]
        np.less(x, lower.values(a, b), out=out)
        np.greater(x, upper.values(a, b), out=hi)
        np.logical_or(out, hi, out=out)
        recorder.add(out, a)
    return recorder, lowest, highest, suspect


def in_envelope(
    cap: Capture,
    channel: str | list[str] | None = None,
    lower: BoundSpec = None,
    upper: BoundSpec = None,
    during: tuple[float, float] | None = None,
    strictness: float = 1.0,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Signal between a lower and an upper bound for at least ``strictness`` of the samples.

    Bounds are constants, tables of (time_s, value) rows interpolated linearly (held beyond the
    ends), or arrays with one value per sample of the window. ``clip`` and ``nonfinite``: see
    hil.waveform.scope.
    """
    sc = scope("in_envelope", cap, channel, during, clip, nonfinite)
    return _envelope(sc, lower, upper, strictness, " the envelope")


def is_constant(
    cap: Capture,
    value: float,
    tol: float,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    strictness: float = 1.0,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Signal within ``value ± tol`` for at least ``strictness`` (0..1) of the time. ``clip`` and
    ``nonfinite``: see hil.waveform.scope."""
    numbers("is_constant", value=value)
    tolerances("is_constant", tol=tol)
    band = f" {value:g} ± {tol:g}"
    sc = scope("is_constant", cap, channel, during, clip, nonfinite)
    return _envelope(sc, value - tol, value + tol, strictness, band)


def _envelope(sc: Scope, lower: BoundSpec, upper: BoundSpec, strictness: float, band: str) -> CheckResult:
    if not 0.0 <= strictness <= 1.0:
        raise ValueError(f"{sc.check}: strictness is a fraction of time in 0..1, got {strictness}")
    n = sc.n
    try:
        lo, hi = Bound(lower, sc.cap, 0, n, "lower"), Bound(upper, sc.cap, 0, n, "upper")
    except ValueError as e:
        raise ValueError(f"{sc.check}: {e.args[0]}") from None
    outcomes = []
    for (name, unit, x), (recorder, lowest, highest, suspect) in sc.measure(
        lambda x: envelope_scan(x, 0, n, lo, hi)
    ):
        refused = sc.refusal(name, x, suspect)
        if refused:
            outcomes.append(refused)
            continue
        inside = 1.0 - recorder.count / n
        unit_text = f" {unit}" if sc.check == "is_constant" and unit else ""
        ok = inside >= strictness
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
                recorder.intervals(sc.cap),
                detail,
                lower=Trace(*lo.trace_points(0, n), "lower", unit) if lower is not None else None,
                upper=Trace(*hi.trace_points(0, n), "upper", unit) if upper is not None else None,
            )
        )
    return sc.result(outcomes, {"fraction_inside": Limit(strictness, None)})


def ripple_stats(x: np.ndarray) -> tuple[float, float, float, float, bool]:
    """(min, max, mean, AC RMS, whether a sample may not be finite); sums are taken about the first
    sample so that a large DC level does not eat the precision of the ripple."""
    ref = x[0]
    if kernels.usable(x):
        lowest, highest, s1, s2 = kernels.compiled.moments(x, float(ref))
    else:
        lowest, highest, s1, s2 = _shifted_moments(x, ref)
    n = x.size
    mean = s1 / n
    ac = math.sqrt(max(s2 / n - mean * mean, 0.0))
    suspect = not (math.isfinite(s1) and math.isfinite(s2))
    return lowest + float(ref), highest + float(ref), mean + float(ref), ac, suspect


def _shifted_moments(x: np.ndarray, ref: np.floating) -> tuple[float, ...]:
    size = chunk_len(x.dtype)
    shifted = np.empty(size, dtype=x.dtype)
    lowest, highest = math.inf, -math.inf
    s1 = s2 = 0.0
    for a, b in chunks(0, x.size, size):
        d = shifted[: b - a]
        with np.errstate(invalid="ignore"):  # inf - inf: the caller refuses the channel
            np.subtract(x[a:b], ref, out=d)
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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Peak-to-peak and RMS of what rides on the mean (DC bus ripple, current ripple). ``clip`` and
    ``nonfinite``: see hil.waveform.scope."""
    numbers("ripple", max_peak_to_peak=max_peak_to_peak, max_rms=max_rms)
    sc = scope("ripple", cap, channel, during, clip, nonfinite)
    outcomes = []
    for (name, unit, x), (lowest, highest, mean, ac, suspect) in sc.measure(ripple_stats):
        refused = sc.refusal(name, x, suspect)
        if refused:
            outcomes.append(refused)
            continue
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
    return sc.result(outcomes, {"peak_to_peak": Limit(None, max_peak_to_peak), "rms": Limit(None, max_rms)})
