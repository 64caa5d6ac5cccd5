"""Time on the bench: the one helper that waits for a condition, dwelling at an operating point, and
the ledger of how much of a scenario the physics needed.

A scenario spends wall time on two things: the bench's physics (a ramp, a dwell, waiting for the
drive to reach speed or a contactor to close) and everything else (connecting, reading out a
capture, judging it). Every wait and dwell goes through here, so the time the physics needed is
counted once, in one place, and the bench utilization the nightly reports is that sum over wall
time. Waits also run the scenario's watchdogs (a plant-model loop that failed, say) at every poll,
so a failure in the background stops the scenario at its next wait rather than at its end.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hil.errors import HilError

T = TypeVar("T")

DEFAULT_POLL_S = 0.02
# a dwell wakes this often to run the watchdogs; short enough that a failed loop stops a long dwell
_WATCH_SLICE_S = 0.05


class WaitTimeout(HilError):
    """A condition not met in time; names what was awaited and the last value seen."""

    def __init__(self, what: str, timeout_s: float, last: Any) -> None:
        self.what, self.timeout_s, self.last = what, timeout_s, last
        super().__init__(f"{what}: not reached within {timeout_s:g} s (last value: {last!r})")


@dataclass
class Ledger:
    """What one scenario spent on the physics, and the watchdogs its waits run."""

    physical_s: float = 0.0
    watchdogs: list[Callable[[], None]] = field(default_factory=list)

    def watch(self, check: Callable[[], None]) -> Callable[[], None]:
        """Run ``check`` at every poll of every wait and dwell until the returned callable removes it."""
        self.watchdogs.append(check)
        return lambda: self.watchdogs.remove(check) if check in self.watchdogs else None

    def run_watchdogs(self) -> None:
        for check in list(self.watchdogs):
            check()


_lock = threading.Lock()
_current = Ledger()


def ledger() -> Ledger:
    """The ledger of the scenario running now (outside a scenario: one for the process)."""
    return _current


def begin() -> Ledger:
    """Start a fresh ledger (the pytest plugin calls this as each test starts)."""
    global _current
    with _lock:
        _current = Ledger()
    return _current


def _sleep(seconds: float, book: Ledger) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, _WATCH_SLICE_S))
        book.run_watchdogs()


def dwell(seconds: float) -> None:
    """Hold the bench where it is for ``seconds`` of physics (a settling time, a dwell, a ramp)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"dwell: {seconds!r} is not a finite, non-negative number of seconds")
    book = _current
    book.run_watchdogs()
    start = time.monotonic()
    try:
        _sleep(seconds, book)
    finally:
        book.physical_s += time.monotonic() - start


def wait_until(
    read: Callable[[], T],
    condition: Callable[[T], bool] = bool,
    *,
    timeout_s: float,
    what: str,
    poll_s: float = DEFAULT_POLL_S,
) -> T:
    """Poll ``read()`` every ``poll_s`` until ``condition(value)`` holds; return that value.

    Raises ``WaitTimeout`` naming ``what`` and the last value read once ``timeout_s`` has passed.
    The time spent is the physics' (the bench was waiting for something physical to happen).
    """
    if not (math.isfinite(timeout_s) and timeout_s > 0):
        raise ValueError(f"wait_until({what}): timeout_s must be a positive finite number, got {timeout_s!r}")
    if not (math.isfinite(poll_s) and poll_s > 0):
        raise ValueError(f"wait_until({what}): poll_s must be a positive finite number, got {poll_s!r}")
    book = _current
    start = time.monotonic()
    deadline = start + timeout_s
    try:
        while True:
            book.run_watchdogs()
            value = read()
            if condition(value):
                return value
            now = time.monotonic()
            if now >= deadline:
                raise WaitTimeout(what, timeout_s, value)
            _sleep(min(poll_s, deadline - now), book)
    finally:
        book.physical_s += time.monotonic() - start
