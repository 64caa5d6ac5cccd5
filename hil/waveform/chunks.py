"""Cache-sized chunking shared by the streaming checks, and the recorder of violating runs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from hil.waveform.capture import Capture

# One chunk of one channel is read from memory once and then revisited from cache by the
# follow-up passes of a check. Smaller chunks stay in L2 but pay the per-call cost of numpy more
# often; at 1 MiB the follow-up passes run from L2/L3 and the call overhead is a few per cent.
CHUNK_BYTES = 1024 * 1024
# Crossing searches and per-cycle sums first reduce rows of this many samples, then look
# at single rows only where something happens.
SUB_BLOCK = 1024
# A noisy signal hugging a limit can produce a violation per sample; past this many
# intervals per channel only the count grows.
MAX_INTERVALS = 1000


def chunk_len(dtype: np.dtype) -> int:
    return max(SUB_BLOCK, CHUNK_BYTES // np.dtype(dtype).itemsize // SUB_BLOCK * SUB_BLOCK)


def chunks(i0: int, i1: int, size: int) -> Iterator[tuple[int, int]]:
    for a in range(i0, i1, size):
        yield a, min(a + size, i1)


class RunRecorder:
    """Counts flagged samples and keeps their runs as [first, last] sample indices, merged across chunks."""

    def __init__(self) -> None:
        self.count = 0
        self.runs: list[list[int]] = []
        self.n_runs = 0
        self._last = -2

    def add(self, flagged: np.ndarray, first_index: int) -> None:
        n = int(np.count_nonzero(flagged))
        if n == 0:
            return
        self.count += n
        edges = np.flatnonzero(np.diff(flagged, prepend=False, append=False))
        for s, e in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
            self.add_run(first_index + s, first_index + e - 1)

    def add_run(self, first: int, last: int) -> None:
        continues = self._last + 1 >= first
        self._last = max(self._last, last)
        if continues:
            if self.runs and self.n_runs == len(self.runs):
                self.runs[-1][1] = self._last
            return
        self.n_runs += 1
        if len(self.runs) < MAX_INTERVALS:
            self.runs.append([first, last])

    def intervals(self, cap: Capture) -> list[tuple[float, float]]:
        return [(cap.time_of(s), cap.time_of(e)) for s, e in self.runs]


def channel_rows(cap: Capture, channel: str | list[str] | None) -> list[tuple[str, str, np.ndarray]]:
    """(name, unit, samples) of the channels a check runs over."""
    sel = cap.select(channel)
    return [(n, u, sel.samples[i]) for i, (n, u) in enumerate(zip(sel.channels, sel.units, strict=True))]
