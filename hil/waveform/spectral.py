"""Frequency-domain checks: fundamental, THD and harmonics (IEC 61000-4-7 framing), unbalance."""

from __future__ import annotations

import functools
import math

import numpy as np

from hil.waveform.capture import Capture
from hil.waveform.chunks import chunk_len, chunks
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity, Trace
from hil.waveform.scope import Scope, numbers, scope
from hil.waveform.streaming import cycle_sums

MAX_ORDER = 50
# IEC 61000-4-7: the window is 10 cycles of a 50 Hz supply and 12 of a 60 Hz one (about 200 ms).
_CYCLES = {50.0: 10, 60.0: 12}
# Frames are transformed a few at a time so the spectra never take memory in proportion to the capture.
_FRAMES_PER_BATCH = 4


def sine_fit(x: np.ndarray, a: int, b: int, freq_hz: float, cap: Capture) -> tuple[float, complex]:
    """Least-squares fit of c + A·cos(2πft + φ) to samples [a, b) of ``x`` at the known frequency, t on
    ``cap``'s time axis: (c, A·e^(jφ)).

    Over a whole number of cycles this is the DFT bin of the fundamental. The samples can only span
    whole cycles to within a sample, and the plain DFT then reads the image at -f and the DC level into
    the bin (325.18 for a 325 peak at 10 kHz); solving the 3 x 3 normal equations, whose entries are
    closed-form sums of exp(jθ), removes both exactly. Σx, Σx·cos and Σx·sin take one matrix product per
    chunk with a fixed table; the rotation of the chunk's start is one complex factor.
    """
    size = min(chunk_len(x.dtype), b - a)
    w = 2.0 * math.pi * freq_hz / cap.sample_rate_hz
    origin = cap.start_s * cap.sample_rate_hz  # sample 0 in sample periods from t = 0
    steps = np.arange(size) * w
    table = np.empty((size, 3))
    table[:, 0], table[:, 1], table[:, 2] = 1.0, np.cos(steps), -np.sin(steps)
    # float32 samples are widened per chunk: a float32 dot over a whole chunk loses the 1e-6 budget.
    wide = np.empty(size) if x.dtype != np.float64 else None
    total, rotated = 0.0, 0j
    for p, q in chunks(a, b, size):
        chunk = x[p:q]
        if wide is not None:
            chunk = wide[: q - p]
            np.copyto(chunk, x[p:q])
        s0, re, im = chunk @ table[: q - p]
        total += float(s0)
        rotated += complex(float(re), float(im)) * np.exp(-1j * w * (p + origin))
    n = b - a

    def exp_sum(m: int) -> complex:  # Σ exp(j·m·θ_k) over the window, θ_k = w·(k + origin)
        half = m * w / 2.0
        ratio = n if math.sin(half) == 0 else math.sin(half * n) / math.sin(half)
        return np.exp(1j * (m * w * (a + origin) + half * (n - 1))) * ratio

    z1, z2 = exp_sum(1), exp_sum(2)
    gram = np.array(
        [
            [n, z1.real, z1.imag],
            [z1.real, (n + z2.real) / 2.0, z2.imag / 2.0],
            [z1.imag, z2.imag / 2.0, (n - z2.real) / 2.0],
        ]
    )
    c, alpha, beta = np.linalg.solve(gram, [total, rotated.real, -rotated.imag])
    return float(c), complex(alpha, -beta)


def fundamental_of(x: np.ndarray, cap: Capture, hysteresis: float) -> dict[str, float]:
    """Frequency from the interpolated first and last rising zero crossings (whole cycles between them),
    and the peak phasor fitted over those cycles; {} with fewer than two crossings."""
    crossings, at, _, _ = cycle_sums(x, hysteresis)
    if crossings.size < 2:
        return {}
    freq = (crossings.size - 1) * cap.sample_rate_hz / (at[-1] - at[0])
    _, p = sine_fit(x, int(crossings[0]), int(crossings[-1]), freq, cap)
    return {
        "frequency_hz": freq,
        "amplitude": abs(p),
        "phase_deg": math.degrees(math.atan2(p.imag, p.real)),
        "first": int(crossings[0]),
        "last": int(crossings[-1]),
    }


def fundamental(
    cap: Capture,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    frequency_hz: tuple[float, float] | None = None,
    amplitude: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Frequency (whole cycles between the first and last rising zero crossings), peak amplitude and
    phase (of A·cos(2πft + φ) on the capture's time axis) fitted over those whole cycles (sine_fit).
    ``clip`` and ``nonfinite``: see hil.waveform.scope."""
    f_low, f_high = frequency_hz or (None, None)
    a_low, a_high = amplitude or (None, None)
    numbers(
        "fundamental",
        frequency_low_hz=f_low,
        frequency_high_hz=f_high,
        amplitude_low=a_low,
        amplitude_high=a_high,
        hysteresis=hysteresis,
    )
    sc = scope("fundamental", cap, channel, during, clip, nonfinite)
    outcomes = []
    for name, unit, x in sc.rows:
        refused = sc.refusal(name, x)
        if refused:
            outcomes.append(refused)
            continue
        fit = fundamental_of(x, sc.cap, hysteresis)
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
    return sc.result(outcomes, limits)


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
    sc = scope("harmonic_groups", cap, channel, during)
    for name, _, x in sc.rows:
        refused = sc.refusal(name, x)
        if refused:
            raise ValueError(f"harmonic_groups: {name}: {refused.detail}")
    groups, starts, frame = _groups(sc, [x for _, _, x in sc.rows], nominal_hz, grouping)
    return groups, sc.offset + starts, frame


def _groups(
    sc: Scope, rows: list[np.ndarray], nominal_hz: float, grouping: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """harmonic_groups of ``rows`` (samples of sc's window); frame starts in window indices."""
    if grouping not in ("group", "subgroup", "bin"):
        raise ValueError(f"grouping must be 'group', 'subgroup' or 'bin', got {grouping!r}")
    if not 0 < nominal_hz < math.inf:
        raise ValueError(
            f"{sc.check}: nominal_hz is the supply's frequency, positive and finite: got {nominal_hz}"
        )
    cap = sc.cap
    cycles = _CYCLES.get(float(nominal_hz), 10)
    frame = round(cycles * cap.sample_rate_hz / nominal_hz)
    i0, i1 = 0, sc.n
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
    out = np.empty((len(rows), n_frames, MAX_ORDER + 1))
    top = int(bins.max()) + 1
    # Rows one by one: a stack of the channels would copy them.
    for c, x in enumerate(rows):
        for f0 in range(0, n_frames, _FRAMES_PER_BATCH):
            f1 = min(f0 + _FRAMES_PER_BATCH, n_frames)
            spectrum = low_bins(x[i0 + f0 * frame : i0 + f1 * frame].reshape(f1 - f0, frame), top)
            # Bin RMS: |X|·√2/N, except DC which is |X|/N.
            power = (spectrum.real**2 + spectrum.imag**2) * (2.0 / frame**2)
            power[..., 0] /= 2.0
            out[c, f0:f1] = np.sqrt(np.einsum("fhk,hk->fh", power[..., bins], w))
    return out, i0 + np.arange(n_frames) * frame, frame


def _framed(
    check: str,
    cap: Capture,
    channel: str | list[str] | None,
    during: tuple[float, float] | None,
    clip: bool,
    nonfinite: str,
    nominal_hz: float,
    grouping: str,
) -> tuple[Scope, list[ChannelOutcome], list[tuple[str, str]], np.ndarray, np.ndarray, int]:
    """The scope of a framed check, the refusals of its channels with samples that are not finite,
    and the harmonic groups of the others (their names and units in order)."""
    sc = scope(check, cap, channel, during, clip, nonfinite)
    refused, judged = [], []
    for name, unit, x in sc.rows:
        r = sc.refusal(name, x)
        if r:
            refused.append(r)
        else:
            judged.append((name, unit, x))
    groups, starts, frame = _groups(sc, [x for _, _, x in judged], nominal_hz, grouping)
    # harmonics are judged against the fundamental: without one they are undefined, not small
    fundamentals = np.sqrt(np.mean(groups[..., 1] ** 2, axis=1))
    has = fundamentals > 0  # NaN has none either
    for c in np.flatnonzero(~has):
        detail = (
            f"no fundamental in the window (order 1 at {nominal_hz:g} Hz is {fundamentals[c]:g}): not judged"
        )
        refused.append(ChannelOutcome(judged[c][0], False, {}, detail=detail))
    kept = [(n, u) for (n, u, _), h in zip(judged, has, strict=True) if h]
    return sc, refused, kept, groups[has], starts, frame


def low_bins(frames: np.ndarray, top: int) -> np.ndarray:
    """rfft(frames)[..., :top] (complex128), without the rest of the spectrum where that saves work.

    With the frame length split as n = a·b, sample i·b + j and bin k < a/2 give
    X[k] = Σ_j W_n^(k·j) · Y_j[k], Y_j the a-point DFT of the samples j, j + b, j + 2b, ...
    The b short transforms cost n·log a instead of n·log n, and only the `top` wanted bins are
    recombined. The recombination runs in float64: float32 transforms summed in float32 over b terms
    would lose more than the float32 transform itself.
    """
    import scipy.fft  # here: it takes a third of a second to import, and most runs take no spectrum

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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Total harmonic distortion (a fraction, 0.05 = 5 %) over IEC 61000-4-7 frames.

    ``definition`` "F" relates the harmonics to the fundamental, "R" to the total RMS. The verdict is
    on the frames' RMS-aggregated value; frames above ``max_thd`` are the violations. ``clip`` and
    ``nonfinite``: see hil.waveform.scope.
    """
    if definition not in ("F", "R"):
        raise ValueError(f"thd: definition is 'F' (fundamental) or 'R' (total RMS), got {definition!r}")
    numbers("thd", max_thd=max_thd)
    sc, outcomes, judged, groups, starts, frame = _framed(
        "thd", cap, channel, during, clip, nonfinite, nominal_hz, grouping
    )
    agg = np.sqrt(np.mean(groups**2, axis=1))
    thd_f, thd_r = thd_values(agg)
    frame_f, frame_r = thd_values(groups)
    win = sc.cap
    for c, (name, unit) in enumerate(judged):
        value = thd_f[c] if definition == "F" else thd_r[c]
        per_frame = frame_f[c] if definition == "F" else frame_r[c]
        ok = max_thd is None or value <= max_thd
        bad = np.flatnonzero(per_frame > max_thd) if max_thd is not None else np.empty(0, int)
        violations = [(win.time_of(starts[i]), win.time_of(starts[i] + frame - 1)) for i in bad]
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
        series = Trace(win.time_of(starts + frame / 2), per_frame, f"THD_{definition} per frame")
        outcomes.append(ChannelOutcome(name, ok, values, violations, detail, series))
    return sc.result(outcomes, {"thd": Limit(None, max_thd)}, f"thd_{definition}")


def harmonics(
    cap: Capture,
    limits_pct: dict[int, float] | np.ndarray,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    nominal_hz: float = 50.0,
    grouping: str = "group",
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Each harmonic order (RMS-aggregated over frames) against its limit in % of the fundamental.

    ``limits_pct`` maps order to limit, or gives one limit per order 0..50 (NaN for none). ``clip`` and
    ``nonfinite``: see hil.waveform.scope.
    """
    limit = np.full(MAX_ORDER + 1, np.nan)
    if isinstance(limits_pct, dict):
        for order, value in limits_pct.items():
            limit[order] = value
    else:
        limit[:] = limits_pct
    sc, outcomes, judged, groups, starts, frame = _framed(
        "harmonics", cap, channel, during, clip, nonfinite, nominal_hz, grouping
    )
    win = sc.cap
    pct = 100.0 * groups / groups[..., 1:2]
    agg_pct = (
        100.0 * np.sqrt(np.mean(groups**2, axis=1)) / np.sqrt(np.mean(groups[..., 1] ** 2, axis=1))[:, None]
    )
    for c, (name, _) in enumerate(judged):
        over = np.flatnonzero(agg_pct[c] > limit)
        frames_over = np.flatnonzero(np.any(pct[c] > limit, axis=-1))
        violations = [(win.time_of(starts[i]), win.time_of(starts[i] + frame - 1)) for i in frames_over]
        values = {"harmonics_pct": Quantity(agg_pct[c], "%"), "orders_over": Quantity(over)}
        detail = (
            "all orders within limits"
            if over.size == 0
            else ", ".join(f"H{h} {agg_pct[c, h]:.3g} % > {limit[h]:g} %" for h in over[:5])
        )
        outcomes.append(ChannelOutcome(name, over.size == 0, values, violations, detail))
    return sc.result(outcomes, {})


def unbalance(
    cap: Capture,
    channels: tuple[str, str, str],
    max_negative_pct: float | None = 2.0,
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Three-phase unbalance per IEC 61000-4-30: the negative- (and zero-) sequence component of the
    fundamental phasors in % of the positive-sequence one. The phasors are fitted (sine_fit) over the
    whole cycles of the first phase, at its frequency. ``clip`` and ``nonfinite``: see
    hil.waveform.scope."""
    if len(channels) != 3:
        raise ValueError(f"unbalance: expected three phase channels, got {list(channels)}")
    numbers("unbalance", max_negative_pct=max_negative_pct, hysteresis=hysteresis)
    sc = scope("unbalance", cap, list(channels), during, clip, nonfinite)
    name = f"unbalance({', '.join(channels)})"
    limits = {"negative_sequence_pct": Limit(None, max_negative_pct, "%")}
    rows = [x for _, _, x in sc.rows]
    refused = [r for r in (sc.refusal(n, x) for n, _, x in sc.rows) if r]
    if refused:
        return sc.result(refused, limits, name)
    ref = fundamental_of(rows[0], sc.cap, hysteresis)
    if not ref:
        outcome = ChannelOutcome(channels[0], False, {}, detail="fewer than two rising zero crossings")
        return sc.result([outcome], limits, name)
    va, vb, vc = (sine_fit(x, ref["first"], ref["last"], ref["frequency_hz"], sc.cap)[1] for x in rows)
    a = complex(-0.5, math.sqrt(3.0) / 2.0)
    v0, v1, v2 = (va + vb + vc) / 3, (va + a * vb + a * a * vc) / 3, (va + a * a * vb + a * vc) / 3
    if not abs(v1) > 1e-9 * max(abs(va), abs(vb), abs(vc)):  # nothing left of it but rounding
        detail = "no positive sequence: the three channels are one phase (a probe on the wrong phase?)"
        return sc.result([ChannelOutcome(channels[0], False, {}, detail=detail)], limits, name)
    neg, zero = 100.0 * abs(v2) / abs(v1), 100.0 * abs(v0) / abs(v1)
    ok = max_negative_pct is None or neg <= max_negative_pct
    unit = sc.rows[0][1]
    values = {
        "negative_sequence_pct": Quantity(neg, "%"),
        "zero_sequence_pct": Quantity(zero, "%"),
        "positive_sequence": Quantity(abs(v1), unit),
        "frequency_hz": Quantity(ref["frequency_hz"], "Hz"),
    }
    detail = f"negative sequence {neg:.4g} %, zero sequence {zero:.4g} % of positive {abs(v1):.6g} {unit}"
    if not ok:
        detail += f" > {max_negative_pct:g} %"
    return sc.result([ChannelOutcome(channels[0], ok, values, [], detail)], limits, name)
