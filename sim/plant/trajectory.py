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
        # the ring in time order is [older part, newer part]; times rise across both, so a global
        # index is the sum of the per-part searches, with no copy of the ring under the lock
        if self._filled < len(self._data):
            parts = [self._data[: self._filled]]
        else:
            parts = [self._data[self._next :], self._data[: self._next]]
        times = [part[:, 0] for part in parts]
        total = sum(len(t) for t in times)
        first = max(sum(int(np.searchsorted(t, start_s, side="right")) for t in times) - 1, 0)
        last = min(sum(int(np.searchsorted(t, end_s, side="left")) for t in times) + 1, total)
        rows = self._rows(parts, first, last)
        return {name: rows[:, i].copy() for i, name in enumerate(self.columns)}

    @staticmethod
    def _rows(parts: list[np.ndarray], first: int, last: int) -> np.ndarray:
        head = len(parts[0])
        if last <= head or len(parts) == 1:
            return parts[0][first:last]
        if first >= head:
            return parts[1][first - head : last - head]
        return np.concatenate([parts[0][first:], parts[1][: last - head]])
