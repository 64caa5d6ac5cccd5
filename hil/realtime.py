"""A thread that must keep time put ahead of the machine's ordinary work: the plant-model loop on
the framework's side, the simulated drive's 1 kHz plant on the simulator's."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

# SCHED_FIFO priority 10: above every ordinary thread of the machine, far below the kernel's own
# real-time threads (50 and up) and low among the 99 real-time levels
REALTIME_PRIORITY = 10
NICE = -10


def raise_thread_priority(realtime: bool = True) -> str:
    """Put the calling thread ahead of the machine's ordinary work, as far as the process may: a
    real-time FIFO priority (root, CAP_SYS_NICE or an rtprio limit), else nice -10, else as it was;
    returns which. On a shared machine a periodic thread otherwise waits its turn behind every busy
    process; a thread it starts inherits the priority.

    Real-time only for a thread that sleeps whenever it is behind (the plant loop skips ahead): one
    that catches up without sleeping would hold its core against every ordinary thread for as long
    as it is behind. ``realtime=False`` asks for nice -10 only."""
    if realtime:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
            return f"real-time (SCHED_FIFO {REALTIME_PRIORITY})"
        except (AttributeError, OSError):  # not Linux, or not permitted
            pass
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        return f"nice {NICE}"
    except (AttributeError, OSError):
        return "ordinary (no permission to raise it)"


@contextlib.contextmanager
def threads_started_ahead() -> Iterator[str]:
    """Threads started inside start at nice -10, as far as the process may (yields which); the calling
    thread returns to its own priority after. For the threads a library starts, which are not ours to
    raise from inside (python-can's cyclic send tasks and notifier, can-isotp's): Linux gives a new
    thread the nice value of the thread that starts it."""
    thread = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, thread)
    except (AttributeError, OSError):  # not Linux: nothing to give
        yield "ordinary (no per-thread priority here)"
        return
    raised = raise_thread_priority(realtime=False)
    try:
        yield raised
    finally:
        os.setpriority(os.PRIO_PROCESS, thread, before)  # a thread may always lower itself again
