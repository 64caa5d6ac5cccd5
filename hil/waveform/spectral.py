"""Frequency-domain checks: fundamental, THD and harmonics (IEC 61000-4-7 framing), unbalance."""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft

from hil.waveform.capture import Capture
from hil.waveform.chunks import channel_rows, chunk_len, chunks
from hil.waveform.crossing import interpolate_time
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity, Trace
from hil.waveform.streaming import cycle_sums

MAX_ORDER = 50
# IEC 61000-4-7: the window is 10 cycles of a 50 Hz supply and 12 of a 60 Hz one (about 200 ms).
_CYCLES = {50.0: 10, 60.0: 12}
# Frames are transformed a few at a time so the spectra never take memory in proportion to the capture.
_FRAMES_PER_BATCH = 4


def phasor(row: np.ndarray, i0: int, i1: int, freq_hz: float, cap: Capture) -> complex:
    """(2/N) Σ x·exp(-j2πf t) over samples [i0, i1), t on the capture's time axis (peak-amplitude phasor).

    The rotation within a chunk is the same for every chunk, so it is tabulated once and each chunk
    costs one matrix-vector product; the chunk's own start is a single complex factor.
    """
    size = chunk_len(row.dtype)
    w = 2.0 * math.pi * freq_hz / cap.sample_rate_hz
    steps = np.arange(size) * w
    table = np.empty((size, 2))
    table[:, 0], table[:, 1] = np.cos(steps), -np.sin(steps)
    # float32 samples are widened per chunk: a float32 dot over a whole chunk loses the 1e-5 budget.
    wide = np.empty(size) if row.dtype != np.float64 else None
    total = 0j
    for a, b in chunks(i0, i1, size):
        x = row[a:b]
        if wide is not None:
            x = wide[: b - a]
            np.copyto(x, row[a:b])
        re, im = x @ table[: b - a]
        total += complex(float(re), float(im)) * np.exp(-1j * w * (a + cap.start_s * cap.sample_rate_hz))
    return 2.0 * total / (i1 - i0)


def fundamental_of(row: np.ndarray, i0: int, i1: int, cap: Capture, hysteresis: float) -> dict[str, float]:
    crossings, _ = cycle_sums(row, i0, i1, hysteresis)
    if crossings.size < 2:
        return {}
    t_first = interpolate_time(cap, row, int(crossings[0]), 0.0)
    t_last = interpolate_time(cap, row, int(crossings[-1]), 0.0)
    freq = (crossings.size - 1) / (t_last - t_first)
    p = phasor(row, int(crossings[0]), int(crossings[-1]), freq, cap)
    return {"frequency_hz": freq, "amplitude": abs(p), "phase_deg": math.degrees(math.atan2(p.imag, p.real))}


def fundamental(
    cap: Capture,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    frequency_hz: tuple[float, float] | None = None,
    amplitude: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
) -> CheckResult:
    """Frequency (whole cycles between the first and last rising zero crossings), peak amplitude and
    phase (of A·cos(2πft + φ) on the capture's time axis) by a DFT over those whole cycles."""
    i0, i1 = cap.index_range(during)
    outcomes = []
    for name, unit, row in channel_rows(cap, channel):
        fit = fundamental_of(row, i0, i1, cap, hysteresis)
        if not fit:
            outcomes.append(ChannelOutcome(name, False, {}, detail="fewer than two rising zero crossings"))
            continue
        f_lim, a_lim = Limit(*(frequency_hz or (None, None)), "Hz"), Limit(*(amplitude or (None, None)), unit)
        ok = f_lim.holds(fit["frequency_hz"]) and a_lim.holds(fit["amplitude"])
        values = {
            "frequency_hz": Quantity(fit["frequency_hz"], "Hz"),
            "amplitude": Quantity(fit["amplitude"], unit),
            "rms": Quantity(fit["amplitude"] / math.sqrt(2.0), unit),
            "phase_deg": Quantity(fit["phase_deg"], "deg"),
        }
        detail = (
            f"{fit['frequency_hz']:.6g} Hz, {fit['amplitude']:.6g} {unit} peak, {fit['phase_deg']:.4g} deg"
        )
        if not ok:
            detail += f" (limits: frequency {f_lim}, amplitude {a_lim})"
        outcomes.append(ChannelOutcome(name, ok, values, [], detail))
    limits = {
        "frequency_hz": Limit(*(frequency_hz or (None, None)), "Hz"),
        "amplitude": Limit(*(amplitude or (None, None))),
    }
    return CheckResult("fundamental", outcomes, limits, cap, during)


def harmonic_groups(
    cap: Capture,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    nominal_hz: float = 50.0,
    grouping: str = "group",
) -> tuple[np.ndarray, np.ndarray, int]:
    """RMS of harmonic orders 0..50 per channel and 10/12-cycle frame: array (channels, frames, 51),
    the frames' start indices and the frame length in samples.

    ``grouping``: "group" (IEC harmonic group: the bins within half a harmonic spacing, the two edge
    bins at half weight), "subgroup" (the centre bin and its two neighbours) or "bin" (centre only).
    """
    if grouping not in ("group", "subgroup", "bin"):
        raise ValueError(f"grouping must be 'group', 'subgroup' or 'bin', got {grouping!r}")
    cycles = _CYCLES.get(float(nominal_hz), 10)
    frame = round(cycles * cap.sample_rate_hz / nominal_hz)
    i0, i1 = cap.index_range(during)
    n_frames = (i1 - i0) // frame
    if n_frames == 0 or frame // 2 < cycles * MAX_ORDER + cycles // 2:
        raise ValueError(
            f"harmonics: need at least one {cycles}-cycle frame of {frame} samples with 50 orders below "
            f"Nyquist; window has {i1 - i0} samples at {cap.sample_rate_hz:g} Hz"
        )
    weights, offsets = _group_weights(cycles, grouping)
    centres = np.arange(MAX_ORDER + 1) * cycles
    bins = centres[:, None] + offsets[None, :]
    valid = bins >= 0
    bins = np.where(valid, bins, 0)
    w = np.where(valid, weights[None, :], 0.0)
    w[0] = 0.0
    w[0, offsets == 0] = 1.0
    sel = cap.select(channel).samples
    out = np.empty((sel.shape[0], n_frames, MAX_ORDER + 1))
    top = int(bins.max()) + 1
    for f0 in range(0, n_frames, _FRAMES_PER_BATCH):
        f1 = min(f0 + _FRAMES_PER_BATCH, n_frames)
        block = sel[:, i0 + f0 * frame : i0 + f1 * frame].reshape(sel.shape[0], f1 - f0, frame)
        spectrum = low_bins(block, top)
        # Bin RMS: |X|·√2/N, except DC which is |X|/N.
        power = (spectrum.real**2 + spectrum.imag**2) * (2.0 / frame**2)
        power[..., 0] /= 2.0
        out[:, f0:f1] = np.sqrt(np.einsum("cfhk,hk->cfh", power[..., bins], w))
    return out, i0 + np.arange(n_frames) * frame, frame


def low_bins(frames: np.ndarray, top: int) -> np.ndarray:
    """rfft(frames)[..., :top] (complex128), without the rest of the spectrum where that saves work.

    With the frame length split as n = a·b, sample i·b + j and bin k < a/2 give
    X[k] = Σ_j W_n^(k·j) · Y_j[k], Y_j the a-point DFT of the samples j, j + b, j + 2b, ...
    The b short transforms cost n·log a instead of n·log n, and only the `top` wanted bins are
    recombined. The recombination runs in float64: float32 transforms summed in float32 over b terms
    would lose more than the float32 transform itself.
    """
    n = frames.shape[-1]
    a = _short_length(n, top)
    if a is None:
        return scipy.fft.rfft(frames, axis=-1)[..., :top].astype(np.complex128)
    b = n // a
    short = scipy.fft.rfft(frames.reshape(*frames.shape[:-1], a, b), axis=-2)[..., :top, :]
    twiddle = _twiddle(n, top, b)
    out = np.empty((*frames.shape[:-1], top), dtype=np.complex128)
    # One frame at a time, so the float64 copy of the short spectra stays a frame's worth.
    for idx in np.ndindex(*frames.shape[:-1]):
        out[idx] = np.vecdot(twiddle, short[idx].astype(np.complex128, copy=False))
    return out


def _short_length(n: int, top: int) -> int | None:
    """The smallest divisor a of n whose real transform has `top` bins (a // 2 + 1 >= top), if it
    leaves at least two short transforms to share the work; None otherwise."""
    smallest = 2 * top - 2
    divisors = [d for f in range(1, math.isqrt(n) + 1) if n % f == 0 for d in (f, n // f)]
    fitting = [d for d in divisors if smallest <= d <= n // 2]
    return min(fitting) if fitting else None


@functools.lru_cache(maxsize=4)
def _twiddle(n: int, top: int, b: int) -> np.ndarray:
    """conj(W_n^(k·j)) for k < top, j < b (np.vecdot conjugates its first argument); the exponent is
    reduced mod n in integers so that the phase stays exact."""
    phase = np.outer(np.arange(top), np.arange(b)) % n
    table = np.exp(2j * np.pi * phase / n)
    table.flags.writeable = False
    return table


def _group_weights(cycles: int, grouping: str) -> tuple[np.ndarray, np.ndarray]:
    if grouping == "bin":
        return np.ones(1), np.zeros(1, dtype=int)
    if grouping == "subgroup":
        return np.ones(3), np.arange(-1, 2)
    half = cycles // 2
    weights = np.ones(2 * half + 1)
    weights[[0, -1]] = 0.5
    return weights, np.arange(-half, half + 1)


def thd_values(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """THD_F (harmonics over the fundamental) and THD_R (harmonics over the total RMS), orders 2..50."""
    harm = np.sqrt(np.sum(groups[..., 2:] ** 2, axis=-1))
    total = np.sqrt(np.sum(groups[..., 1:] ** 2, axis=-1))
    return harm / groups[..., 1], harm / total


def thd(
    cap: Capture,
    channel: str | list[str] | None = None,
    max_thd: float | None = None,
    during: tuple[float, float] | None = None,
    nominal_hz: float = 50.0,
    grouping: str = "group",
    definition: str = "F",
) -> CheckResult:
    """Total harmonic distortion (a fraction, 0.05 = 5 %) over IEC 61000-4-7 frames.

    ``definition`` "F" relates the harmonics to the fundamental, "R" to the total RMS. The verdict is
    on the frames' RMS-aggregated value; frames above ``max_thd`` are the violations.
    """
    if definition not in ("F", "R"):
        raise ValueError(f"thd: definition is 'F' (fundamental) or 'R' (total RMS), got {definition!r}")
    groups, starts, frame = harmonic_groups(cap, channel, during, nominal_hz, grouping)
    sel = cap.select(channel)
    agg = np.sqrt(np.mean(groups**2, axis=1))
    thd_f, thd_r = thd_values(agg)
    frame_f, frame_r = thd_values(groups)
    outcomes = []
    for c, (name, unit) in enumerate(zip(sel.channels, sel.units, strict=True)):
        value = thd_f[c] if definition == "F" else thd_r[c]
        per_frame = frame_f[c] if definition == "F" else frame_r[c]
        ok = max_thd is None or value <= max_thd
        bad = np.flatnonzero(per_frame > max_thd) if max_thd is not None else np.empty(0, int)
        violations = [(cap.time_of(starts[i]), cap.time_of(starts[i] + frame - 1)) for i in bad]
        values = {
            "thd_f": Quantity(float(thd_f[c])),
            "thd_r": Quantity(float(thd_r[c])),
            "fundamental_rms": Quantity(float(agg[c, 1]), unit),
            "harmonics_rms": Quantity(agg[c], unit),
            "thd_per_frame": Quantity(per_frame),
        }
        detail = f"THD_{definition} {value * 100:.4g} % over {len(starts)} frames"
        if not ok:
            detail += f" > {max_thd * 100:g} %"
        series = Trace(cap.time_of(starts + frame / 2), per_frame, f"THD_{definition} per frame")
        outcomes.append(ChannelOutcome(name, ok, values, violations, detail, series))
    return CheckResult(f"thd_{definition}", outcomes, {"thd": Limit(None, max_thd)}, cap, during)


def harmonics(
    cap: Capture,
    limits_pct: dict[int, float] | np.ndarray,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    nominal_hz: float = 50.0,
    grouping: str = "group",
) -> CheckResult:
    """Each harmonic order (RMS-aggregated over frames) against its limit in % of the fundamental.

    ``limits_pct`` maps order to limit, or gives one limit per order 0..50 (NaN for none).
    """
    limit = np.full(MAX_ORDER + 1, np.nan)
    if isinstance(limits_pct, dict):
        for order, value in limits_pct.items():
            limit[order] = value
    else:
        limit[:] = limits_pct
    groups, starts, frame = harmonic_groups(cap, channel, during, nominal_hz, grouping)
    sel = cap.select(channel)
    pct = 100.0 * groups / groups[..., 1:2]
    agg_pct = (
        100.0 * np.sqrt(np.mean(groups**2, axis=1)) / np.sqrt(np.mean(groups[..., 1] ** 2, axis=1))[:, None]
    )
    outcomes = []
    for c, name in enumerate(sel.channels):
        over = np.flatnonzero(agg_pct[c] > limit)
        frames_over = np.flatnonzero(np.any(pct[c] > limit, axis=-1))
        violations = [(cap.time_of(starts[i]), cap.time_of(starts[i] + frame - 1)) for i in frames_over]
        values = {"harmonics_pct": Quantity(agg_pct[c], "%"), "orders_over": Quantity(over)}
        detail = (
            "all orders within limits"
            if over.size == 0
            else ", ".join(f"H{h} {agg_pct[c, h]:.3g} % > {limit[h]:g} %" for h in over[:5])
        )
        outcomes.append(ChannelOutcome(name, over.size == 0, values, violations, detail))
    return CheckResult("harmonics", outcomes, {}, cap, during)


def unbalance(
    cap: Capture,
    channels: tuple[str, str, str],
    max_negative_pct: float | None = 2.0,
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
) -> CheckResult:
    """Three-phase unbalance from the fundamental phasors: negative- and zero-sequence in % of positive."""
    i0, i1 = cap.index_range(during)
    rows = [cap.channel(n) for n in channels]
    ref = fundamental_of(rows[0], i0, i1, cap, hysteresis)
    name = f"unbalance({', '.join(channels)})"
    limits = {"negative_sequence_pct": Limit(None, max_negative_pct, "%")}
    if not ref:
        outcome = ChannelOutcome(channels[0], False, {}, detail="fewer than two rising zero crossings")
        return CheckResult(name, [outcome], limits, cap, during)
    crossings, _ = cycle_sums(rows[0], i0, i1, hysteresis)
    a0, a1 = int(crossings[0]), int(crossings[-1])
    va, vb, vc = (phasor(r, a0, a1, ref["frequency_hz"], cap) for r in rows)
    a = complex(-0.5, math.sqrt(3.0) / 2.0)
    v0, v1, v2 = (va + vb + vc) / 3, (va + a * vb + a * a * vc) / 3, (va + a * a * vb + a * vc) / 3
    neg, zero = 100.0 * abs(v2) / abs(v1), 100.0 * abs(v0) / abs(v1)
    ok = max_negative_pct is None or neg <= max_negative_pct
    unit = cap.units[cap.channel_index(channels[0])]
    values = {
        "negative_sequence_pct": Quantity(neg, "%"),
        "zero_sequence_pct": Quantity(zero, "%"),
        "positive_sequence": Quantity(abs(v1), unit),
        "frequency_hz": Quantity(ref["frequency_hz"], "Hz"),
    }
    detail = f"negative sequence {neg:.4g} %, zero sequence {zero:.4g} % of positive {abs(v1):.6g} {unit}"
    if not ok:
        detail += f" > {max_negative_pct:g} %"
    return CheckResult(name, [ChannelOutcome(channels[0], ok, values, [], detail)], limits, cap, during)
