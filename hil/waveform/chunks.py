"""Cache-sized chunking shared by the streaming checks, and the recorder of violating runs."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from hil.waveform.capture import Capture

# One chunk of one channel is read from memory once and then revisited from cache by the
# follow-up passes of a check. Smaller chunks stay in L2 but pay the per-call cost of numpy more
# often; at 1 MiB the follow-up passes run from L2/L3 and the call overhead is a few per cent.
# (Measured on the 2-core bench machine: 512 KiB..1 MiB are equally good for two or more passes.)
CHUNK_BYTES = 1024 * 1024
# A search that reads each chunk once (first crossing, first sample past a level, a mean) gains
# nothing from cache-sized chunks; it takes chunks this many times larger, which measured 10-25 %
# faster at 4 MiB than at 1 MiB by paying numpy's per-call cost less often.
SINGLE_PASS_FACTOR = 4
# Sums run over rows of this many samples (see sum_squares).
SUB_BLOCK = 1024
# A noisy signal hugging a limit can produce a violation per sample; past this many
# intervals per channel only the count grows.
MAX_INTERVALS = 1000


def chunk_len(dtype: np.dtype, single_pass: bool = False) -> int:
    size = max(SUB_BLOCK, CHUNK_BYTES // np.dtype(dtype).itemsize // SUB_BLOCK * SUB_BLOCK)
    return size * SINGLE_PASS_FACTOR if single_pass else size


def chunks(i0: int, i1: int, size: int) -> Iterator[tuple[int, int]]:
    for a in range(i0, i1, size):
        yield a, min(a + size, i1)


# Sums go through BLAS dots of SUB_BLOCK samples, one per row: a dot is the fastest single-thread
# reduction numpy has (np.add.reduce on float32 runs at half its speed, with dtype=float64 at a
# quarter), and OpenBLAS splits dots longer than ~10k samples across threads, which on a busy
# machine waits for a core and runs several times slower. Short rows also keep float32 rounding near
# float32 eps; the row results are added in float64. float32 samples are widened to float64 first:
# their squares overflow float32 from 1.8e19, and a float32 row sum of a large DC level loses digits
# a small step on it needs.
def _rows_and_tail(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    full = x.size // SUB_BLOCK * SUB_BLOCK
    return x[:full].reshape(-1, SUB_BLOCK), x[full:]


@functools.cache
def _ones() -> np.ndarray:
    ones = np.ones(SUB_BLOCK)
    ones.flags.writeable = False
    return ones


def sum_squares(x: np.ndarray) -> float:
    """Σx² in float64."""
    rows, tail = _rows_and_tail(x.astype(np.float64, copy=False))
    return float(np.add.reduce(np.vecdot(rows, rows))) + float(np.dot(tail, tail))


def sum_values(x: np.ndarray) -> float:
    """Σx in float64."""
    rows, tail = _rows_and_tail(x.astype(np.float64, copy=False))
    return float(np.add.reduce(np.vecdot(rows, _ones()))) + float(np.add.reduce(tail))


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
