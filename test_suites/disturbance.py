"""A reading the bench disturbed says nothing of the unit: it is taken again.

The disturbances come from the bench, not the unit: a VCU or simulator thread starved on a loaded
machine held frames back past a timeout the unit keeps, or a capture could not be placed on the
bench's clock. What a reading watches for depends on what it reads (``CommandTimeouts``: the drive
timed out its TSC1 command and took its torque away for a moment; ``HeartbeatLosses``: the BMS opened
its contactors on its VCU heartbeat). A reading during which its disturbance came, or whose capture
is off the bench's clock, is taken again, up to ``attempts`` times; when every attempt was disturbed
the test errors (``CommandStreamBroken``): neither a pass nor a fail of the unit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import allure

from hil.acquisition import CaptureClockUncertain
from hil.dut.dtc import decode_dm
from hil.dut.j1939 import PGN_DM1, J1939Client, J1939Message
from hil.dut.monitor import CanMonitor
from hil.errors import HilError
from hil.product import Product

T = TypeVar("T")

READING_ATTEMPTS = 3
# DM1 comes on a change and every second: the one that names a fault of the attempt's end is in by then
DM1_WITHIN_S = 2.5


class CommandStreamBroken(HilError):
    """Every attempt at a reading was disturbed by the bench (a timeout its frames held back set off
    in the unit, or a capture off the bench's clock): the bench's stream of commands (a VCU or
    simulator thread starved on a loaded machine), not the unit, failed."""


class Watch(Protocol):
    """What disturbs a reading: ``mark()`` a point in what was heard, ``seen(since)`` the disturbance
    heard since then (None if none)."""

    def mark(self) -> int: ...

    def seen(self, since: int) -> str | None: ...


class CommandTimeouts:
    """The drive timed out its TSC1 command (``INV_Faults.CanCommandTimeout``): a torque it dropped
    for a moment disturbs any reading of the driveline."""

    def __init__(self, monitor: CanMonitor) -> None:
        self.monitor = monitor

    def mark(self) -> int:
        return self.monitor.mark()

    def seen(self, since: int) -> str | None:
        timed_out = self.monitor.first("INV_Faults", lambda f: f["CanCommandTimeout"] == 1, since=since)
        return None if timed_out is None else "the drive timed out its TSC1 command during the reading"


class HeartbeatLosses:
    """The BMS set its VCU-heartbeat DTC (the product's ``vcu_timeout``) in DM1, or counted one more
    occurrence of it: contactors it opened on that are no trip of what a scenario ramps. A unit that
    sends no DM1 shows none (its DM1 is DIAG-01's to judge)."""

    def __init__(self, j1939: J1939Client, product: Product) -> None:
        self.j1939 = j1939
        self.address = int(product.value("drive_address", "1"))
        self.dtc = product.dtc("vcu_timeout")

    def _count(self, message: J1939Message) -> int:
        """The DTC's occurrence count in ``message``; -1 when it is not active."""
        found = decode_dm(message.data).find(self.dtc.spn, self.dtc.fmi)
        return -1 if found is None else found.oc

    def mark(self) -> int:
        return self.j1939.mark()

    def seen(self, since: int) -> str | None:
        self.j1939.wait_for(PGN_DM1, self.address, DM1_WITHIN_S)
        heard = self.j1939.messages(PGN_DM1, self.address)
        before = [m for m in heard if m.sequence <= since]
        count = self._count(before[-1]) if before else -1
        if any(self._count(m) > count for m in heard if m.sequence > since):
            return "the BMS lost the VCU's heartbeat during the reading (its DTC in DM1)"
        return None


def undisturbed(
    watch: Watch,
    take: Callable[[], T],
    attempts: int = READING_ATTEMPTS,
    *,
    timeout_expected: bool = False,
    again: Callable[[], None] | None = None,
) -> T:
    """``take()`` (a stimulus, its settling and a reading), again if ``watch`` saw its disturbance
    meanwhile (unless ``timeout_expected``: the stimulus is that timeout) or the reading's capture
    could not be placed on the bench's clock; an attempt that raised (a wait that timed out) is taken
    again too if the disturbance came during it. ``again()``, before each attempt after the first,
    brings the bench back to where ``take`` starts (a protection the first attempt tripped)."""
    why = ""
    for attempt in range(attempts):
        if attempt and again is not None:
            again()
        mark = watch.mark()
        try:
            value = take()
        except CaptureClockUncertain as e:
            why = str(e)
        except HilError as e:
            # what the bench's disturbance set off (a protection tripped on it) ended the attempt
            seen = None if timeout_expected else watch.seen(mark)
            if seen is None:
                raise
            why = f"{seen}, which then failed ({e})"
        else:
            seen = None if timeout_expected else watch.seen(mark)
            if seen is None:
                return value
            why = seen
        if attempt + 1 < attempts:
            with allure.step(f"{why}: taken again"):
                pass
    raise CommandStreamBroken(
        f"the bench disturbed each of {attempts} attempts at a reading (the last: {why}): a starved "
        "thread on a loaded machine?"
    )
