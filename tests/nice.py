"""Reading the nice value of threads, for the tests of what ``hil.realtime`` raises."""

from __future__ import annotations

import os
import threading

from hil.realtime import NICE, threads_started_ahead


def nice_of(thread_id: int | None) -> int:
    assert thread_id is not None, "the thread has not started"
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def raised_nice() -> int:
    """What a raised thread gets here: nice -10 where the process may raise a thread, else the
    calling thread's own."""
    with threads_started_ahead() as may:
        pass
    return NICE if may.startswith("nice") else nice_of(threading.get_native_id())
