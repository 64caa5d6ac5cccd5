"""Channels of a capture checked side by side, by the caller and a small pool of threads.

One core alone does not saturate the memory bus: on the 2-core bench machine one thread reads at
14-16 GB/s and two together at 23-25 GB/s. The compiled kernels read a channel without the GIL, so
threads are enough. The numpy paths make many short calls per chunk, and there two threads trading
the GIL measured slower (per-cycle RMS and ripple at 0.6-0.9 times the speed), so without the kernels
the channels are checked in turn. The caller and the pool's threads take a channel at a time;
results come back in channel order and are the same as in turn, because no channel's work shares
state with another's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from hil.waveform import kernels

T = TypeVar("T")
R = TypeVar("R")

ENV_VAR = "HIL_WAVEFORM_THREADS"
# Below this much to read in all, the channels are checked in turn. A pool thread starts a few
# hundred microseconds after it is woken, and two threads measured slower than one up to 8 MiB and
# 1.2-1.7 times as fast from 16 MiB up (float32 and float64, 2 and 8 channels).
MIN_PARALLEL_BYTES = 16 << 20

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads = 1


def _validated(n: object, source: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{source}: expected a whole number of threads >= 1, got {n!r}")
    return n


def _from_environment() -> int:
    raw = os.environ.get(ENV_VAR)
    if raw is None:
        return len(os.sched_getaffinity(0))
    try:
        n = int(raw)
    except ValueError:
        n = raw
    return _validated(n, f"environment variable {ENV_VAR}")


def set_threads(n: int) -> None:
    """Threads the checks use for the channels of one capture (default: the cores this process may
    run on, or ``HIL_WAVEFORM_THREADS``); 1 checks the channels in turn."""
    global _threads, _pool
    n = _validated(n, "set_threads")
    with _lock:
        if n != _threads and _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None
        _threads = n


def threads() -> int:
    return _threads


def map_channels(fn: Callable[[T], R], rows: Sequence[T], bytes_per_row: int) -> list[R]:
    """``[fn(row) for row in rows]``, the rows shared with the pool where there is enough work.

    The caller takes rows too, and waits only for rows a pool thread has taken: waking an idle thread
    can take hundreds of microseconds, and the caller may have finished every row by then.
    """
    global _pool
    enough = len(rows) > 1 and bytes_per_row * len(rows) >= MIN_PARALLEL_BYTES
    if _threads == 1 or kernels.compiled is None or not enough:
        return [fn(row) for row in rows]
    share = _Share(fn, rows)
    with _lock:  # submitted under the lock, so that set_threads cannot shut the pool in between
        if _pool is None:
            _pool = ThreadPoolExecutor(_threads - 1, thread_name_prefix="hil-waveform")
        for _ in range(min(_threads, len(rows)) - 1):
            _pool.submit(share.work)
    share.work()
    return share.results()


class _Share:
    """Rows handed out one at a time to whichever thread asks next."""

    def __init__(self, fn: Callable[[T], R], rows: Sequence[T]) -> None:
        self._fn = fn
        self._rows = rows
        self._next = iter(range(len(rows)))  # next() on it is atomic: the GIL is held inside
        self._out: list[object] = [None] * len(rows)
        self._failed: dict[int, BaseException] = {}
        self._left = len(rows)
        self._lock = threading.Lock()
        self._done = threading.Event()

    def work(self) -> None:
        for i in self._next:
            try:
                self._out[i] = self._fn(self._rows[i])
            except BaseException as e:
                self._failed[i] = e
            with self._lock:
                self._left -= 1
                if self._left == 0:
                    self._done.set()

    def results(self) -> list:
        self._done.wait()
        if self._failed:
            raise self._failed[min(self._failed)]
        return self._out


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist; the next check starts a pool of its own."""
    global _pool, _lock
    _pool, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)
set_threads(_from_environment())
