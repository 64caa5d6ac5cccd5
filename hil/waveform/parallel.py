"""Channels of a capture checked side by side, on a small pool of threads.

One core alone does not saturate the memory bus: on the 2-core bench machine one thread reads at
14-16 GB/s and two together at 23-25 GB/s. The compiled kernels read a channel without the GIL, so
threads are enough. The numpy paths make many short calls per chunk, and there two threads trading
the GIL measured slower (per-cycle RMS and ripple at 0.6-0.7 times the speed), so without the kernels
the channels are checked in turn. Each channel is one task; results come back in channel order and
are the same as in turn, because no task shares state with another.
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
# Below this many samples in all, the channels are checked in turn: handing a task to a thread
# costs tens of microseconds, about what reading 1e5 samples costs.
MIN_PARALLEL_SAMPLES = 1 << 20

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


def map_channels(fn: Callable[[T], R], rows: Sequence[T], samples_per_row: int) -> list[R]:
    """``[fn(row) for row in rows]``, the rows on the pool where there is enough work to share."""
    global _pool
    enough = len(rows) > 1 and samples_per_row * len(rows) >= MIN_PARALLEL_SAMPLES
    if _threads == 1 or kernels.compiled is None or not enough:
        return [fn(row) for row in rows]
    with _lock:  # submitted under the lock, so that set_threads cannot shut the pool in between
        if _pool is None:
            _pool = ThreadPoolExecutor(_threads, thread_name_prefix="hil-waveform")
        futures = [_pool.submit(fn, row) for row in rows]
    return [f.result() for f in futures]


set_threads(_from_environment())
