"""The recent state trajectory, kept so the analyzer can synthesise a window after the fact."""

from __future__ import annotations

import numpy as np


class Trajectory:
    """A fixed-size ring of rows (time first), read back in time order."""

    def __init__(self, columns: tuple[str, ...], rows: int) -> None:
        self.columns = ("time_s", *columns)
        self._data = np.zeros((rows, len(self.columns)))
        self._next = 0
        self._filled = 0

    def append(self, row: tuple[float, ...]) -> None:
        self._data[self._next] = row
        self._next = (self._next + 1) % len(self._data)
        self._filled = min(self._filled + 1, len(self._data))

    def window(self, start_s: float, end_s: float) -> dict[str, np.ndarray]:
        """Rows from the last one at or before ``start_s`` to the first at or after ``end_s``."""
        if self._filled < len(self._data):
            data = self._data[: self._filled]
        else:
            data = np.roll(self._data, -self._next, axis=0)
        times = data[:, 0]
        first = max(int(np.searchsorted(times, start_s, side="right")) - 1, 0)
        last = min(int(np.searchsorted(times, end_s, side="left")) + 1, len(times))
        rows = data[first:last]
        return {name: rows[:, i].copy() for i, name in enumerate(self.columns)}
