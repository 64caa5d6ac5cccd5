"""A debounced threshold whose crossing time is interpolated inside the step, so that a trip
40 ms late is measurable to well under a millisecond whatever the step."""

from __future__ import annotations


def crossing_time(t0: float, t1: float, x0: float, x1: float, level: float) -> float:
    """When a value going linearly from x0 at t0 to x1 at t1 passes ``level`` (t0 if it was
    already past it)."""
    if x1 == x0:
        return t0
    fraction = min(1.0, max(0.0, (level - x0) / (x1 - x0)))
    return t0 + fraction * (t1 - t0)


class LevelMonitor:
    """Active once the value has stayed beyond ``threshold`` for ``debounce_s``; inactive again as
    soon as it comes back past ``clear`` (the hysteresis is threshold − clear)."""

    __slots__ = ("_since", "above", "active", "debounce_s")

    def __init__(self, above: bool, debounce_s: float) -> None:
        self.above = above
        self.debounce_s = debounce_s
        self.active = False
        self._since: float | None = None

    def update(
        self, t0: float, t1: float, x0: float, x1: float, threshold: float, clear: float
    ) -> float | None:
        """Advance over [t0, t1]; returns the time inside the step at which ``active`` changed."""
        if self.active:
            back = x1 < clear if self.above else x1 > clear
            if not back:
                return None
            self.active = False
            self._since = None
            return crossing_time(t0, t1, x0, x1, clear)
        beyond = x1 > threshold if self.above else x1 < threshold
        if not beyond:
            self._since = None
            return None
        if self._since is None:
            self._since = crossing_time(t0, t1, x0, x1, threshold)
        t_set = self._since + self.debounce_s
        if t_set > t1:
            return None
        self.active = True
        return t_set
