"""A reading the bench disturbed says nothing of the unit: it is taken again.

Two disturbances come from the bench, not the drive: the drive timed out its TSC1 command (a VCU or
simulator thread starved on a loaded machine held a frame back past the drive's command timeout,
and the drive took its torque away for a moment), or a capture could not be placed on the bench's
clock. A reading during which either happened is taken again, up to ``attempts`` times; when every
attempt was disturbed the test errors (``CommandStreamBroken``): neither a pass nor a fail of the unit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import allure

from hil.acquisition import CaptureClockUncertain
from hil.dut.monitor import CanMonitor
from hil.errors import HilError

T = TypeVar("T")

READING_ATTEMPTS = 3


class CommandStreamBroken(HilError):
    """Every attempt at a reading was disturbed by the bench (the drive timed out its TSC1 command,
    or the capture could not be placed on the bench's clock): the bench's stream of commands (a VCU
    or simulator thread starved on a loaded machine), not the drive, failed."""


def undisturbed(
    monitor: CanMonitor,
    take: Callable[[], T],
    attempts: int = READING_ATTEMPTS,
    *,
    timeout_expected: bool = False,
    again: Callable[[], None] | None = None,
) -> T:
    """``take()`` (a stimulus, its settling and a reading), again if the drive timed out its TSC1
    command meanwhile (unless ``timeout_expected``: the stimulus is the timeout) or the reading's
    capture could not be placed on the bench's clock. ``again()``, before each attempt after the
    first, brings the bench back to where ``take`` starts (a protection the first attempt tripped)."""
    why = ""
    for attempt in range(attempts):
        if attempt and again is not None:
            again()
        mark = monitor.mark()
        try:
            value = take()
        except CaptureClockUncertain as e:
            why = str(e)
        else:
            timed_out = monitor.first("INV_Faults", lambda f: f["CanCommandTimeout"] == 1, since=mark)
            if timed_out is None or timeout_expected:
                return value
            why = "the drive timed out its TSC1 command during the reading"
        with allure.step(f"{why}: taken again"):
            pass
    raise CommandStreamBroken(
        f"the bench disturbed each of {attempts} attempts at a reading (the last: {why}): a starved "
        "thread on a loaded machine?"
    )
