"""Limits that vary with time: a constant, a piecewise-linear table of (time, value), or an array."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hil.waveform.capture import Capture

BoundSpec = float | Sequence[tuple[float, float]] | np.ndarray | None


class Bound:
    """A bound bound to a capture's time axis; the streaming loop asks for its extremes over a chunk
    first and only evaluates it sample by sample where the chunk's extremes come close."""

    def __init__(self, spec: BoundSpec, cap: Capture, i0: int, i1: int, side: str) -> None:
        self.side = side
        self.constant: float | None = None
        self.table: tuple[np.ndarray, np.ndarray] | None = None
        self.array: np.ndarray | None = None
        self.cap = cap
        self.i0 = i0
        if spec is None:
            self.constant = -np.inf if side == "lower" else np.inf
        elif np.isscalar(spec):
            self.constant = float(spec)
            if np.isnan(self.constant):
                raise ValueError(f"{side} bound is NaN; give a number (None leaves it open)")
        else:
            arr = np.asarray(spec, dtype=np.float64)
            # a NaN in a bound is never crossed: the samples beside it would all pass
            if np.isnan(arr).any():
                where = np.flatnonzero(np.isnan(arr).reshape(arr.shape[0], -1).any(axis=1))[0]
                raise ValueError(f"{side} bound: its row or sample {where} is NaN")
            if arr.ndim == 2 and arr.shape[1] == 2:
                order = np.argsort(arr[:, 0], kind="stable")
                self.table = (arr[order, 0], arr[order, 1])
            elif arr.ndim == 1 and arr.size == i1 - i0:
                self.array = np.asarray(spec)
            else:
                raise ValueError(
                    f"{side} bound: expected a number, a table of (time_s, value) rows or an array of the "
                    f"window's {i1 - i0} samples; got shape {arr.shape}"
                )

    def extreme(self, a: int, b: int) -> float:
        """The bound's tightest value over samples [a, b): min of an upper bound, max of a lower one."""
        return float(self.extremes(np.array([a]), np.array([b]))[0])

    def extremes(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """extreme() of each span [starts[k], stops[k]), for all the chunks of a scan at once: per chunk,
        the few numpy calls of a table lookup cost as much as reading a cache-sized chunk."""
        pick = np.minimum if self.side == "upper" else np.maximum
        if self.constant is not None:
            return np.full(starts.size, self.constant)
        if self.array is not None:
            spans = zip(starts - self.i0, stops - self.i0, strict=True)
            return np.array([pick.reduce(self.array[a:b]) for a, b in spans], dtype=np.float64)
        times, values = self.table
        ta, tb = self.cap.time_of(starts), self.cap.time_of(stops - 1)
        out = pick(np.interp(ta, times, values), np.interp(tb, times, values))
        # Knots strictly inside a span; spans do not overlap, so each knot has at most one.
        span = np.searchsorted(ta, times, side="right") - 1
        inside = (span >= 0) & (times > ta[np.maximum(span, 0)]) & (times < tb[np.maximum(span, 0)])
        pick.at(out, span[inside], values[inside])
        return out

    def values(self, a: int, b: int) -> float | np.ndarray:
        if self.constant is not None:
            return self.constant
        if self.array is not None:
            return self.array[a - self.i0 : b - self.i0]
        return np.interp(self.cap.time_s(a, b), *self.table)

    def trace_points(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
        """A few points that draw the bound over [i0, i1)."""
        ta, tb = self.cap.time_of(i0), self.cap.time_of(i1 - 1)
        if self.constant is not None:
            return np.array([ta, tb]), np.array([self.constant, self.constant])
        if self.array is not None:
            step = max(1, (i1 - i0) // 4000)
            idx = np.arange(i0, i1, step)
            return self.cap.time_of(idx), self.array[idx - self.i0]
        times, values = self.table
        t = np.concatenate([[ta], times[(times > ta) & (times < tb)], [tb]])
        return t, np.interp(t, times, values)
