"""Step-response checks: step metrics, is_step, is_ramp, is_first_order."""

from __future__ import annotations

import math

import numpy as np

from hil.waveform import kernels
from hil.waveform.bounds import Bound
from hil.waveform.capture import Capture
from hil.waveform.chunks import RunRecorder, channel_rows, chunk_len, chunks, per_channel, sum_values
from hil.waveform.crossing import first_crossing, first_where, interpolate_time
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity
from hil.waveform.streaming import envelope_scan


def window_mean(row: np.ndarray, i0: int, i1: int) -> float:
    total = 0.0
    for a, b in chunks(i0, i1, chunk_len(row.dtype, single_pass=True)):
        total += sum_values(row[a:b])
    return total / (i1 - i0)


def _extremes(row: np.ndarray, i0: int, i1: int, final: float, band: float) -> dict[str, float | int]:
    """Min and max with their indices, and the last sample outside final ± band. Without the compiled
    kernel each chunk is read by two reductions; only the chunks that hold the extremes and the last
    one that leaves the band are searched sample by sample, once, after the loop."""
    # The band's edges in the samples' type, as numpy compares samples with a Python float.
    edge_lo, edge_hi = row.dtype.type(final - band), row.dtype.type(final + band)
    x = row[i0:i1]
    if kernels.usable(x):
        lo_v, hi_v, total, lo_i, hi_i, last_out = kernels.compiled.extremes(x, edge_lo, edge_hi)
        if math.isfinite(total):  # else NaN or inf: numpy's semantics
            return {
                "min": lo_v,
                "max": hi_v,
                "argmin": i0 + lo_i,
                "argmax": i0 + hi_i,
                "last_out": i0 + last_out if last_out >= 0 else -1,
            }
    lo_v, hi_v, lo_chunk, hi_chunk, last_chunk = math.inf, -math.inf, None, None, None
    for a, b in chunks(i0, i1, chunk_len(row.dtype)):
        x = row[a:b]
        mn, mx = float(np.minimum.reduce(x)), float(np.maximum.reduce(x))
        # Strict comparisons keep the first chunk holding the extreme, as argmin/argmax keep the first index.
        if mn < lo_v:
            lo_v, lo_chunk = mn, (a, b)
        if mx > hi_v:
            hi_v, hi_chunk = mx, (a, b)
        if mn <= edge_lo or mx >= edge_hi:
            last_chunk = (a, b)
    lo_i = -1 if lo_chunk is None else lo_chunk[0] + int(np.argmin(row[lo_chunk[0] : lo_chunk[1]]))
    hi_i = -1 if hi_chunk is None else hi_chunk[0] + int(np.argmax(row[hi_chunk[0] : hi_chunk[1]]))
    last_out = -1
    if last_chunk is not None:
        x = row[last_chunk[0] : last_chunk[1]]
        out = (x <= edge_lo) | (x >= edge_hi)
        last_out = last_chunk[1] - 1 - int(np.argmax(out[::-1]))  # no index array of every sample out
    return {"min": lo_v, "max": hi_v, "argmin": lo_i, "argmax": hi_i, "last_out": last_out}


def step_metrics(
    row: np.ndarray,
    i0: int,
    i1: int,
    step_index: int,
    initial: float | None = None,
    final: float | None = None,
    rise_limits: tuple[float, float] = (0.1, 0.9),
    settling_band: float = 0.02,
    final_fraction: float = 0.05,
) -> dict[str, float]:
    """Step metrics in samples and signal units (times as sample indices), python-control's definitions
    generalised to a nonzero initial value: levels and bands are fractions of final - initial."""
    if initial is None:
        initial = window_mean(row, i0, step_index) if step_index > i0 else float(row[i0])
    if final is None:
        final = window_mean(row, i1 - max(1, int((i1 - i0) * final_fraction)), i1)
    delta = final - initial
    if delta == 0:
        return {"initial": initial, "final": final}
    up = delta > 0
    reaches = ">=" if up else "<="
    lower = first_where(row, step_index, i1, reaches, initial + rise_limits[0] * delta)
    upper = None if lower is None else first_where(row, lower, i1, reaches, initial + rise_limits[1] * delta)
    band = settling_band * abs(delta)
    split = upper if upper is not None else i1
    early = _extremes(row, step_index, split, final, band) if split > step_index else None
    late = _extremes(row, split, i1, final, band) if split < i1 else None
    parts = [p for p in (early, late) if p is not None]
    lo = min(parts, key=lambda p: p["min"])
    hi = max(parts, key=lambda p: p["max"])
    last_out = max(p["last_out"] for p in parts)
    toward, away = (hi["max"], lo["min"]) if up else (lo["min"], hi["max"])
    peak_i = hi["argmax"] if abs(hi["max"] - initial) >= abs(lo["min"] - initial) else lo["argmin"]
    return {
        "initial": initial,
        "final": final,
        "rise_start": math.nan if lower is None else lower,
        "rise_end": math.nan if upper is None else upper,
        "overshoot_pct": max(0.0, (toward - final) / delta) * 100.0,
        "undershoot_pct": max(0.0, (initial - away) / delta) * 100.0,
        "peak_index": peak_i,
        "peak": float(row[peak_i]),
        "settled": (last_out + 1 if last_out >= 0 else step_index) if last_out + 1 < i1 else math.nan,
        "settling_min": min(late["min"], final) if late else math.nan,
        "settling_max": max(late["max"], final) if late else math.nan,
    }


def step_info(
    cap: Capture,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    step_time_s: float | None = None,
    initial_value: float | None = None,
    final_value: float | None = None,
    rise_limits: tuple[float, float] = (0.1, 0.9),
    settling_band: float = 0.02,
    max_rise_time_s: float | None = None,
    max_overshoot_pct: float | None = None,
    max_settling_time_s: float | None = None,
    target: float | None = None,
    max_steady_state_error: float | None = None,
) -> CheckResult:
    """Rise time, overshoot, undershoot, settling time, steady-state value and error of a step.

    Times are measured from the step (``step_time_s``, default the window start). The initial value is
    the mean before the step (or the first sample), the final value the mean of the last 5 % of the
    window, unless given. Levels and the settling band are fractions of the step size.
    """
    i0, i1 = cap.index_range(during)
    s = i0 if step_time_s is None else cap.index_range((step_time_s, math.inf))[0]
    t_step = cap.time_of(s)
    limits = {
        "rise_time_s": Limit(None, max_rise_time_s, "s"),
        "overshoot_pct": Limit(None, max_overshoot_pct, "%"),
        "settling_time_s": Limit(None, max_settling_time_s, "s"),
        "steady_state_error": Limit(None, max_steady_state_error),
    }

    def measure(row: np.ndarray) -> dict[str, float]:
        return step_metrics(row, i0, i1, s, initial_value, final_value, rise_limits, settling_band)

    outcomes = []
    for (name, unit, _), m in per_channel(cap, channel, i0, i1, measure):
        if "peak" not in m:
            detail = f"no step: initial and final value are both {m['final']:.6g} {unit}"
            outcomes.append(ChannelOutcome(name, False, {}, [], detail))
            continue

        def at(index: float) -> float:
            return math.nan if math.isnan(index) else cap.time_of(index)

        rise = at(m["rise_end"]) - at(m["rise_start"])
        settling = at(m["settled"]) - t_step
        error = m["final"] - target if target is not None else math.nan
        values = {
            "rise_time_s": Quantity(rise, "s"),
            "overshoot_pct": Quantity(m["overshoot_pct"], "%"),
            "undershoot_pct": Quantity(m["undershoot_pct"], "%"),
            "settling_time_s": Quantity(settling, "s"),
            "peak": Quantity(m["peak"], unit),
            "peak_time_s": Quantity(cap.time_of(m["peak_index"]) - t_step, "s"),
            "initial": Quantity(m["initial"], unit),
            "steady_state": Quantity(m["final"], unit),
            "steady_state_error": Quantity(error, unit),
            "settling_min": Quantity(m["settling_min"], unit),
            "settling_max": Quantity(m["settling_max"], unit),
        }
        failed, violations = [], []
        if max_rise_time_s is not None and not rise <= max_rise_time_s:
            failed.append(f"rise time > {max_rise_time_s:g} s")
            violations.append((at(m["rise_start"]) + max_rise_time_s, at(m["rise_end"])))
        if max_overshoot_pct is not None and not m["overshoot_pct"] <= max_overshoot_pct:
            failed.append(f"overshoot > {max_overshoot_pct:g} %")
            violations.append((cap.time_of(m["peak_index"]), cap.time_of(m["peak_index"])))
        if max_settling_time_s is not None and not settling <= max_settling_time_s:
            failed.append(f"settling time > {max_settling_time_s:g} s")
            end = at(m["settled"]) if not math.isnan(m["settled"]) else cap.time_of(i1 - 1)
            violations.append((t_step + max_settling_time_s, end))
        if max_steady_state_error is not None and not abs(error) <= max_steady_state_error:
            failed.append(f"|steady-state error| > {max_steady_state_error:g} {unit}")
        detail = (
            f"{m['initial']:.6g} -> {m['final']:.6g} {unit}: rise {rise:.6g} s, overshoot "
            f"{m['overshoot_pct']:.4g} %, settling {settling:.6g} s (±{settling_band * 100:g} %)"
        )
        if failed:
            detail += "; " + ", ".join(failed)
        outcomes.append(ChannelOutcome(name, not failed, values, violations, detail))
    return CheckResult("step_info", outcomes, limits, cap, during)


def is_step(
    cap: Capture,
    from_value: float,
    to_value: float,
    tol: float,
    at_s: float,
    channel: str | list[str] | None = None,
    time_tol_s: float = 0.0,
    settle_s: float = 0.0,
    during: tuple[float, float] | None = None,
) -> CheckResult:
    """A step from ``from_value`` to ``to_value`` at ``at_s ± time_tol_s``: the signal holds the first
    value (± tol) before, the second after (allowing ``settle_s``), and crosses halfway in between."""
    w0, w1 = cap.index_range(during)
    before = (w0, cap.index_range((-math.inf, at_s - time_tol_s))[1])
    after = (cap.index_range((at_s + time_tol_s + settle_s, math.inf))[0], w1)
    search = cap.index_range((at_s - time_tol_s, at_s + time_tol_s))
    mid = (from_value + to_value) / 2
    direction = "rising" if to_value > from_value else "falling"
    outcomes = []
    for name, unit, row in channel_rows(cap, channel):
        failed, violations = [], []
        for (a, b), value, label in ((before, from_value, "before"), (after, to_value, "after")):
            if b <= a:
                continue
            lo, hi = Bound(value - tol, cap, a, b, "lower"), Bound(value + tol, cap, a, b, "upper")
            recorder, _, _ = envelope_scan(row, a, b, lo, hi)
            if recorder.count:
                failed.append(f"{recorder.count} samples {label} the step outside {value:g} ± {tol:g} {unit}")
                violations.extend(recorder.intervals(cap))
        idx = first_crossing(row, max(search[0] - 1, w0), min(search[1] + 1, w1), mid, direction)
        t_step = math.nan if idx is None else interpolate_time(cap, row, idx, mid)
        if not abs(t_step - at_s) <= time_tol_s:
            failed.append(f"no {direction} crossing of {mid:g} {unit} within {at_s:g} ± {time_tol_s:g} s")
            violations.append((at_s - time_tol_s, at_s + time_tol_s))
        detail = f"step {from_value:g} -> {to_value:g} {unit} at {t_step:.9g} s"
        if failed:
            detail += "; " + "; ".join(failed)
        values = {"step_time_s": Quantity(t_step, "s")}
        outcomes.append(ChannelOutcome(name, not failed, values, sorted(violations), detail))
    return CheckResult(
        "is_step", outcomes, {"step_time_s": Limit(at_s - time_tol_s, at_s + time_tol_s, "s")}, cap, during
    )


def ramp_fit(row: np.ndarray, i0: int, i1: int, cap: Capture) -> tuple[float, float]:
    """Least-squares slope (per second) and the fitted value at the window's middle, in one pass:
    per chunk, Σx and Σj·x from one matrix-vector product with a fixed table of [1, j]."""
    size = chunk_len(row.dtype)
    table = np.empty((size, 2))
    table[:, 0], table[:, 1] = 1.0, np.arange(size)
    wide = np.empty(size)
    n = i1 - i0
    centre = (n - 1) / 2.0
    s0 = s1 = 0.0
    for a, b in chunks(i0, i1, size):
        x = wide[: b - a]
        np.copyto(x, row[a:b])
        total, moment = x @ table[: b - a]
        s0 += total
        s1 += moment + (a - i0 - centre) * total
    sxx = n * (n * n - 1) / 12.0
    return s1 / sxx * cap.sample_rate_hz, s0 / n


def is_ramp(
    cap: Capture,
    slope: float,
    rel_tol: float = 0.05,
    channel: str | list[str] | None = None,
    during: tuple[float, float] | None = None,
    max_deviation: float | None = None,
) -> CheckResult:
    """A ramp of ``slope`` (units per second, least squares) within ``rel_tol``; with ``max_deviation``,
    every sample also stays that close to the fitted line."""
    i0, i1 = cap.index_range(during)
    t_mid = cap.time_of((i0 + i1 - 1) / 2)
    outcomes = []
    for name, unit, row in channel_rows(cap, channel):
        fitted, mid = ramp_fit(row, i0, i1, cap)
        failed, violations = [], []
        if not abs(fitted - slope) <= rel_tol * abs(slope):
            failed.append(f"slope outside {slope:g} {unit}/s ± {rel_tol * 100:g} %")
        deviation_count = 0
        if max_deviation is not None:
            t0, t1 = cap.time_of(i0), cap.time_of(i1 - 1)
            line = [(t0, mid + fitted * (t0 - t_mid)), (t1, mid + fitted * (t1 - t_mid))]
            lo = Bound([(t, v - max_deviation) for t, v in line], cap, i0, i1, "lower")
            hi = Bound([(t, v + max_deviation) for t, v in line], cap, i0, i1, "upper")
            recorder, _, _ = envelope_scan(row, i0, i1, lo, hi)
            deviation_count = recorder.count
            if recorder.count:
                failed.append(f"{recorder.count} samples farther than {max_deviation:g} {unit} from the line")
                violations = recorder.intervals(cap)
        values = {
            "slope": Quantity(fitted, f"{unit}/s"),
            "value_at_middle": Quantity(mid, unit),
            "samples_off_line": Quantity(deviation_count),
        }
        detail = f"slope {fitted:.6g} {unit}/s"
        if failed:
            detail += "; " + "; ".join(failed)
        outcomes.append(ChannelOutcome(name, not failed, values, violations, detail))
    limits = {"slope": Limit(slope - rel_tol * abs(slope), slope + rel_tol * abs(slope))}
    return CheckResult("is_ramp", outcomes, limits, cap, during)


def is_first_order(
    cap: Capture,
    final: float,
    tau_s: float,
    channel: str | list[str] | None = None,
    initial: float | None = None,
    step_time_s: float | None = None,
    tau_rel_tol: float = 0.1,
    max_deviation: float | None = None,
    during: tuple[float, float] | None = None,
) -> CheckResult:
    """A first-order response to ``final`` with time constant ``tau_s`` (± ``tau_rel_tol``), τ measured
    as the time from the step to 63.2 % of the step; with ``max_deviation``, every sample after the step
    also stays that close to final + (initial - final)·exp(-t/τ)."""
    i0, i1 = cap.index_range(during)
    s = i0 if step_time_s is None else cap.index_range((step_time_s, math.inf))[0]
    t_step = cap.time_of(s)
    outcomes = []
    for name, unit, row in channel_rows(cap, channel):
        y0 = initial if initial is not None else float(row[s])
        level = y0 + (1 - math.exp(-1.0)) * (final - y0)
        idx = first_crossing(row, max(s - 1, i0), i1, level, "rising" if final > y0 else "falling")
        tau = math.nan if idx is None else interpolate_time(cap, row, idx, level) - t_step
        failed, violations = [], []
        if not abs(tau - tau_s) <= tau_rel_tol * tau_s:
            failed.append(f"tau outside {tau_s:g} s ± {tau_rel_tol * 100:g} %")
        worst = math.nan
        if max_deviation is not None:
            recorder, worst = _model_deviation(row, s, i1, cap, y0, final, tau_s, max_deviation)
            if recorder.count:
                failed.append(
                    f"{recorder.count} samples farther than {max_deviation:g} {unit} from the model"
                )
                violations = recorder.intervals(cap)
        values = {"tau_s": Quantity(tau, "s"), "max_deviation": Quantity(worst, unit)}
        detail = f"tau {tau:.6g} s"
        if failed:
            detail += "; " + "; ".join(failed)
        outcomes.append(ChannelOutcome(name, not failed, values, violations, detail))
    limits = {"tau_s": Limit(tau_s * (1 - tau_rel_tol), tau_s * (1 + tau_rel_tol), "s")}
    return CheckResult("is_first_order", outcomes, limits, cap, during)


def _model_deviation(
    row: np.ndarray, s: int, i1: int, cap: Capture, y0: float, final: float, tau_s: float, limit: float
) -> tuple[RunRecorder, float]:
    recorder = RunRecorder()
    worst = 0.0
    for a, b in chunks(s, i1, chunk_len(row.dtype)):
        model = final + (y0 - final) * np.exp(-(np.arange(a - s, b - s) / cap.sample_rate_hz) / tau_s)
        dev = np.abs(row[a:b] - model)
        worst = max(worst, float(np.maximum.reduce(dev)))
        recorder.add(dev > limit, a)
    return recorder, worst
