"""Step-response checks: step metrics, is_step, is_ramp, is_first_order."""

from __future__ import annotations

import math

import numpy as np

from hil.waveform import kernels
from hil.waveform.bounds import Bound
from hil.waveform.capture import Capture
from hil.waveform.chunks import RunRecorder, chunk_len, chunks, sum_values
from hil.waveform.crossing import first_crossing, first_where, interpolate_time
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity
from hil.waveform.scope import instant, numbers, scope, tolerances
from hil.waveform.scope import nonfinite as nonfinite_count
from hil.waveform.streaming import envelope_scan


def window_mean(row: np.ndarray, i0: int, i1: int) -> float:
    """Mean of samples [i0, i1); not finite when a sample is not."""
    x = row[i0:i1]
    if kernels.usable(x):  # summed about the first sample, so that a DC level keeps its digits
        ref = float(x[0])
        return ref + kernels.compiled.moments(x, ref)[2] / x.size
    total = 0.0
    for a, b in chunks(i0, i1, chunk_len(row.dtype, single_pass=True)):
        total += sum_values(row[a:b])
    return total / (i1 - i0)


def _extremes(row: np.ndarray, i0: int, i1: int, final: float, band: float) -> dict[str, float | int]:
    """Min and max with their indices, the last sample outside final ± band, and whether a sample may
    not be finite. Without the compiled kernel each chunk is read by two reductions; only the chunks
    that hold the extremes and the last one that leaves the band are searched sample by sample, once,
    after the loop."""
    # The band's edges in the samples' type, as numpy compares samples with a Python float.
    edge_lo, edge_hi = row.dtype.type(final - band), row.dtype.type(final + band)
    x = row[i0:i1]
    if kernels.usable(x):
        lo_v, hi_v, total, lo_i, hi_i, last_out = kernels.compiled.extremes(x, edge_lo, edge_hi)
        return {
            "min": lo_v,
            "max": hi_v,
            "argmin": i0 + lo_i,
            "argmax": i0 + hi_i,
            "last_out": i0 + last_out if last_out >= 0 else -1,
            "suspect": not math.isfinite(total),
        }
    lo_v, hi_v, lo_chunk, hi_chunk, last_chunk = math.inf, -math.inf, None, None, None
    suspect = False
    for a, b in chunks(i0, i1, chunk_len(row.dtype)):
        x = row[a:b]
        mn, mx = float(np.minimum.reduce(x)), float(np.maximum.reduce(x))
        suspect = suspect or not (math.isfinite(mn) and math.isfinite(mx))
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
    found = {"min": lo_v, "max": hi_v, "argmin": lo_i, "argmax": hi_i, "last_out": last_out}
    return {**found, "suspect": suspect}


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
    generalised to a nonzero initial value: levels and bands are fractions of final - initial.
    "suspect" says whether a sample of [i0, i1) may not be finite (then the rest is meaningless)."""
    if initial is None:
        initial = window_mean(row, i0, step_index) if step_index > i0 else float(row[i0])
    elif step_index > i0 and nonfinite_count(row[i0:step_index])[0]:  # else not read at all
        return {"suspect": True}
    if final is None:
        final = window_mean(row, i1 - max(1, int((i1 - i0) * final_fraction)), i1)
    delta = final - initial
    if not math.isfinite(delta):
        return {"suspect": True}
    if delta == 0:
        suspect = nonfinite_count(row[step_index:i1])[0] > 0
        return {"initial": initial, "final": final, "suspect": suspect}
    up = delta > 0
    reaches = ">=" if up else "<="
    lower, _ = first_where(row, step_index, i1, reaches, initial + rise_limits[0] * delta)
    upper = None
    if lower is not None:
        upper, _ = first_where(row, lower, i1, reaches, initial + rise_limits[1] * delta)
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
        "suspect": any(p["suspect"] for p in parts),
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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Rise time, overshoot, undershoot, settling time, steady-state value and error of a step.

    Times are measured from the step (``step_time_s``, default the window start). The initial value is
    the mean before the step (or the first sample), the final value the mean of the last 5 % of the
    window, unless given. Levels and the settling band are fractions of the step size. ``clip`` and
    ``nonfinite``: see hil.waveform.scope.
    """
    numbers(
        "step_info",
        initial_value=initial_value,
        final_value=final_value,
        rise_from=rise_limits[0],
        rise_to=rise_limits[1],
        max_rise_time_s=max_rise_time_s,
        max_overshoot_pct=max_overshoot_pct,
        max_settling_time_s=max_settling_time_s,
        target=target,
        max_steady_state_error=max_steady_state_error,
    )
    tolerances("step_info", settling_band=settling_band)
    sc = scope("step_info", cap, channel, during, clip, nonfinite)
    s = instant(sc, step_time_s, "step_time_s")
    t_step = sc.cap.time_of(s)
    limits = {
        "rise_time_s": Limit(None, max_rise_time_s, "s"),
        "overshoot_pct": Limit(None, max_overshoot_pct, "%"),
        "settling_time_s": Limit(None, max_settling_time_s, "s"),
        "steady_state_error": Limit(None, max_steady_state_error),
    }

    def measure(x: np.ndarray) -> dict[str, float]:
        return step_metrics(x, 0, x.size, s, initial_value, final_value, rise_limits, settling_band)

    outcomes = []
    for (name, unit, x), m in sc.measure(measure):
        refused = sc.refusal(name, x, m["suspect"])
        if refused:
            outcomes.append(refused)
            continue
        if "peak" not in m:
            detail = f"no step: initial and final value are both {m['final']:.6g} {unit}"
            outcomes.append(ChannelOutcome(name, False, {}, [], detail))
            continue

        def at(index: float) -> float:
            return math.nan if math.isnan(index) else sc.cap.time_of(index)

        rise = at(m["rise_end"]) - at(m["rise_start"])
        settling = at(m["settled"]) - t_step
        error = m["final"] - target if target is not None else math.nan
        values = {
            "rise_time_s": Quantity(rise, "s"),
            "overshoot_pct": Quantity(m["overshoot_pct"], "%"),
            "undershoot_pct": Quantity(m["undershoot_pct"], "%"),
            "settling_time_s": Quantity(settling, "s"),
            "peak": Quantity(m["peak"], unit),
            "peak_time_s": Quantity(sc.cap.time_of(m["peak_index"]) - t_step, "s"),
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
            violations.append((sc.cap.time_of(m["peak_index"]), sc.cap.time_of(m["peak_index"])))
        if max_settling_time_s is not None and not settling <= max_settling_time_s:
            failed.append(f"settling time > {max_settling_time_s:g} s")
            end = at(m["settled"]) if not math.isnan(m["settled"]) else sc.cap.time_of(sc.n - 1)
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
    return sc.result(outcomes, limits)


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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """A step from ``from_value`` to ``to_value`` at ``at_s ± time_tol_s``: the signal holds the first
    value (± tol) before, the second after (allowing ``settle_s``), and crosses halfway in between.
    ``at_s`` must lie in the window. ``clip`` and ``nonfinite``: see hil.waveform.scope."""
    numbers("is_step", from_value=from_value, to_value=to_value)
    tolerances("is_step", tol=tol, time_tol_s=time_tol_s, settle_s=settle_s)
    sc = scope("is_step", cap, channel, during, clip, nonfinite)
    instant(sc, at_s, "at_s")
    win, n = sc.cap, sc.n
    before = (0, win.index_range((-math.inf, at_s - time_tol_s))[1])
    after = (win.index_range((at_s + time_tol_s + settle_s, math.inf))[0], n)
    search = win.index_range((at_s - time_tol_s, at_s + time_tol_s))
    mid = (from_value + to_value) / 2
    direction = "rising" if to_value > from_value else "falling"
    outcomes = []
    for name, unit, row in sc.rows:
        refused = sc.refusal(name, row)
        if refused:
            outcomes.append(refused)
            continue
        failed, violations = [], []
        for (a, b), value, label in ((before, from_value, "before"), (after, to_value, "after")):
            if b <= a:
                continue
            lo, hi = Bound(value - tol, win, a, b, "lower"), Bound(value + tol, win, a, b, "upper")
            recorder, _, _, _ = envelope_scan(row, a, b, lo, hi)
            if recorder.count:
                failed.append(f"{recorder.count} samples {label} the step outside {value:g} ± {tol:g} {unit}")
                violations.extend(recorder.intervals(win))
        idx, _ = first_crossing(row, max(search[0] - 1, 0), min(search[1] + 1, n), mid, direction)
        t_step = math.nan if idx is None else interpolate_time(win, row, idx, mid)
        if not abs(t_step - at_s) <= time_tol_s:
            failed.append(f"no {direction} crossing of {mid:g} {unit} within {at_s:g} ± {time_tol_s:g} s")
            violations.append((at_s - time_tol_s, at_s + time_tol_s))
        detail = f"step {from_value:g} -> {to_value:g} {unit} at {t_step:.9g} s"
        if failed:
            detail += "; " + "; ".join(failed)
        values = {"step_time_s": Quantity(t_step, "s")}
        outcomes.append(ChannelOutcome(name, not failed, values, sorted(violations), detail))
    return sc.result(outcomes, {"step_time_s": Limit(at_s - time_tol_s, at_s + time_tol_s, "s")})


def ramp_fit(row: np.ndarray, i0: int, i1: int, cap: Capture) -> tuple[float, float]:
    """Least-squares slope (per second) and the fitted value at the window's middle, in one pass:
    per chunk, Σx and Σj·x from one matrix-vector product with a fixed table of [1, j]. Either is not
    finite when a sample is not."""
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
        with np.errstate(invalid="ignore"):  # a NaN sample: the caller refuses the channel
            total, moment = map(float, x @ table[: b - a])
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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """A ramp of ``slope`` (units per second, least squares) within ``rel_tol``; with ``max_deviation``,
    every sample also stays that close to the fitted line. ``clip`` and ``nonfinite``: see
    hil.waveform.scope."""
    numbers("is_ramp", slope=slope)
    tolerances("is_ramp", rel_tol=rel_tol, max_deviation=max_deviation)
    sc = scope("is_ramp", cap, channel, during, clip, nonfinite)
    if sc.n < 2:
        raise ValueError(f"is_ramp: a slope needs two samples or more; the window holds {sc.n}")
    win, i0, i1 = sc.cap, 0, sc.n
    t_mid = win.time_of((i0 + i1 - 1) / 2)
    outcomes = []
    for name, unit, row in sc.rows:
        fitted, mid = ramp_fit(row, i0, i1, win)
        refused = sc.refusal(name, row, not (math.isfinite(fitted) and math.isfinite(mid)))
        if refused:
            outcomes.append(refused)
            continue
        failed, violations = [], []
        if not abs(fitted - slope) <= rel_tol * abs(slope):
            failed.append(f"slope outside {slope:g} {unit}/s ± {rel_tol * 100:g} %")
        deviation_count = 0
        if max_deviation is not None:
            t0, t1 = win.time_of(i0), win.time_of(i1 - 1)
            line = [(t0, mid + fitted * (t0 - t_mid)), (t1, mid + fitted * (t1 - t_mid))]
            lo = Bound([(t, v - max_deviation) for t, v in line], win, i0, i1, "lower")
            hi = Bound([(t, v + max_deviation) for t, v in line], win, i0, i1, "upper")
            recorder, _, _, _ = envelope_scan(row, i0, i1, lo, hi)
            deviation_count = recorder.count
            if recorder.count:
                failed.append(f"{recorder.count} samples farther than {max_deviation:g} {unit} from the line")
                violations = recorder.intervals(win)
        values = {
            "slope": Quantity(fitted, f"{unit}/s"),
            "value_at_middle": Quantity(mid, unit),
            "samples_off_line": Quantity(deviation_count),
        }
        detail = f"slope {fitted:.6g} {unit}/s"
        if failed:
            detail += "; " + "; ".join(failed)
        outcomes.append(ChannelOutcome(name, not failed, values, violations, detail))
    return sc.result(outcomes, {"slope": Limit(slope - rel_tol * abs(slope), slope + rel_tol * abs(slope))})


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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """A first-order response to ``final`` with time constant ``tau_s`` (± ``tau_rel_tol``), τ measured
    as the time from the step to 63.2 % of the step; with ``max_deviation``, every sample after the step
    also stays that close to final + (initial - final)·exp(-t/τ). ``clip`` and ``nonfinite``: see
    hil.waveform.scope."""
    numbers("is_first_order", final=final, initial=initial)
    tolerances("is_first_order", tau_s=tau_s, tau_rel_tol=tau_rel_tol, max_deviation=max_deviation)
    sc = scope("is_first_order", cap, channel, during, clip, nonfinite)
    win, i0, i1 = sc.cap, 0, sc.n
    s = instant(sc, step_time_s, "step_time_s")
    t_step = win.time_of(s)
    outcomes = []
    for name, unit, row in sc.rows:
        refused = sc.refusal(name, row)
        if refused:
            outcomes.append(refused)
            continue
        y0 = initial if initial is not None else float(row[s])
        level = y0 + (1 - math.exp(-1.0)) * (final - y0)
        idx, _ = first_crossing(row, max(s - 1, i0), i1, level, "rising" if final > y0 else "falling")
        tau = math.nan if idx is None else interpolate_time(win, row, idx, level) - t_step
        failed, violations = [], []
        if not abs(tau - tau_s) <= tau_rel_tol * tau_s:
            failed.append(f"tau outside {tau_s:g} s ± {tau_rel_tol * 100:g} %")
        worst = math.nan
        if max_deviation is not None:
            recorder, worst = _model_deviation(row, s, i1, win, y0, final, tau_s, max_deviation)
            if recorder.count:
                failed.append(
                    f"{recorder.count} samples farther than {max_deviation:g} {unit} from the model"
                )
                violations = recorder.intervals(win)
        values = {"tau_s": Quantity(tau, "s"), "max_deviation": Quantity(worst, unit)}
        detail = f"tau {tau:.6g} s"
        if failed:
            detail += "; " + "; ".join(failed)
        outcomes.append(ChannelOutcome(name, not failed, values, violations, detail))
    return sc.result(outcomes, {"tau_s": Limit(tau_s * (1 - tau_rel_tol), tau_s * (1 + tau_rel_tol), "s")})


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
