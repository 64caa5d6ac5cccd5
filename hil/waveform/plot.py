"""Figures of check results: the signal (or the derived series), limits drawn, violations shaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hil.waveform.result import ChannelOutcome, CheckResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MAX_PANELS = 4


def decimate(row: np.ndarray, i0: int, i1: int, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max pairs per bin so that a capture of 1e8 samples draws its peaks with a few thousand points."""
    n = i1 - i0
    bins = max(1, max_points // 2)
    if n <= max_points:
        return np.arange(i0, i1, dtype=np.float64), row[i0:i1]
    width = n // bins
    body = row[i0 : i0 + bins * width].reshape(bins, width)
    index = np.repeat(i0 + np.arange(bins) * width + width / 2, 2)
    values = np.empty(2 * bins, dtype=row.dtype)
    values[0::2], values[1::2] = np.minimum.reduce(body, axis=1), np.maximum.reduce(body, axis=1)
    return index, values


def plot_result(result: CheckResult, max_points: int = 4000) -> Figure:
    from matplotlib.figure import Figure

    failing = [o for o in result.outcomes if not o.passed]
    shown = (failing or result.outcomes)[:_MAX_PANELS]
    fig = Figure(figsize=(10, 2.6 * len(shown) + 0.6), layout="constrained")
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    for ax, outcome in zip(axes, shown, strict=True):
        _draw(ax, result, outcome, max_points)
    fig.suptitle(result.message if len(result.message) < 140 else result.message[:137] + "...", fontsize=9)
    return fig


def _draw(ax, result: CheckResult, outcome: ChannelOutcome, max_points: int) -> None:
    cap = result.capture
    unit = ""
    if outcome.series is not None:
        s = outcome.series
        ax.plot(s.time_s, s.values, ".-", lw=0.8, ms=3, label=s.label)
        unit = s.unit
        for limit in result.limits.values():
            for v in (limit.low, limit.high):
                if v is not None:
                    ax.axhline(v, color="tab:red", ls="--", lw=1)
    elif cap is not None and outcome.channel in cap.channels:
        i0, i1 = cap.index_range(result.window)
        index, values = decimate(cap.channel(outcome.channel), i0, i1, max_points)
        ax.plot(cap.time_of(index), values, lw=0.7, label=outcome.channel)
        unit = cap.units[cap.channel_index(outcome.channel)]
    for bound in (outcome.lower, outcome.upper):
        if bound is not None:
            ax.plot(bound.time_s, bound.values, color="tab:red", ls="--", lw=1, label=bound.label)
    if outcome.violations:
        lo, hi = ax.get_xlim()
        for k, (t0, t1) in enumerate(_merged(outcome.violations, (hi - lo) / 400)):
            ax.axvspan(t0, t1, color="tab:red", alpha=0.25, lw=0, label="violation" if k == 0 else None)
        ax.set_xlim(lo, hi)
    ax.set_title(f"{outcome.channel}: {'PASS' if outcome.passed else 'FAIL'}", fontsize=9, loc="left")
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{outcome.channel} [{unit}]" if unit else outcome.channel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=7)


def _merged(intervals: list[tuple[float, float]], least: float) -> list[tuple[float, float]]:
    """Violations widened to be visible and merged where they would overlap on screen."""
    spans: list[list[float]] = []
    for t0, t1 in sorted(intervals):
        mid, half = (t0 + t1) / 2, max(t1 - t0, least) / 2
        if spans and mid - half <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], mid + half)
        else:
            spans.append([mid - half, mid + half])
    return [(a, b) for a, b in spans]
