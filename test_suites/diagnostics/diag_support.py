"""What the diagnostics scenarios share (the ``diagnostics`` fixture of conftest.py): DM1 read as
sets of DTCs with their arrival times, a clean start, and the two faults a bench causes in well
under a second.

- a warning that comes and goes: the bench's VCU stops TSC1 for a moment, the drive's command-timeout
  warning sets (amber) and clears when TSC1 is back (INV-16's stimulus);
- a trip that stays until reset: one cell-simulator channel steps below the BMS under-voltage trip
  (BMS-02's stimulus); the BMS's under-voltage warning sets with it.

A DTC is identified by what the unit reports (SPN, FMI), so that a scenario about DM2 or a clear
still judges its own criterion on a unit that encodes the DTC wrongly (DIAG-01 judges that).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hil.dut.dtc import DmMessage, decode_dm
from hil.dut.j1939 import PGN_DM1, J1939Client
from hil.dut.vcu import Vcu
from hil.safety import Guarded
from hil.strategy import RESTING_CELL_V, DriveStrategy
from hil.timing import WaitTimeout, wait_until

Key = tuple[int, int]  # (SPN, FMI) as the unit reports them

TRIP_CELL = 1  # any channel (1-based): the lowest cell decides
# below the BMS-02 under-voltage trip 2.80 V and its warning 2.90 V, well clear of both [E: reference §2.3]
TRIP_CELL_V = 2.60
# a DTC the bench caused shows within a debounce (0.5 s) and a DM1 period (1 s) or it is late;
# the limits are in specs/, this only stops a wait that has nothing more to wait for
EVENT_WAIT_S = 3.0
RESET_POLL_S = 0.1  # a fault reset per poll until the DTCs go: the reset acts once the fault is gone
DM1_POLL_S = 0.01  # arrival times come from the messages, the poll only bounds how soon a scenario sees them


def keys(dm: DmMessage) -> set[Key]:
    return {dtc.key for dtc in dm.dtcs}


@dataclass(frozen=True)
class Dm1:
    """One DM1 as received: its content, its arrival time (time.monotonic), its place in the receive
    history (a mark) and the DTCs it added to the DM1 before a stimulus."""

    message: DmMessage
    time_s: float
    sequence: int
    new: frozenset[Key] = frozenset()

    @property
    def keys(self) -> set[Key]:
        return keys(self.message)


class Diagnostics:
    """The drive's diagnostics as a scenario sees them: DM1 from ``address`` on the bench's J1939 link."""

    def __init__(
        self,
        j1939: J1939Client,
        vcu: Vcu,
        drive: DriveStrategy,
        cellsim: Guarded,
        address: int,
    ) -> None:
        self.j1939, self.vcu, self.drive, self.cellsim = j1939, vcu, drive, cellsim
        self.address = address

    # --- DM1 ---------------------------------------------------------------------------------------
    def mark(self) -> int:
        return self.j1939.mark()

    def dm1s(self, after: int) -> list[Dm1]:
        return [
            Dm1(decode_dm(m.data), m.time_s, m.sequence)
            for m in self.j1939.messages(PGN_DM1, self.address, after=after)
        ]

    def latest_keys(self) -> set[Key]:
        received = self.dm1s(0)
        return received[-1].keys if received else set()

    def next_dm1(
        self,
        condition: Callable[[DmMessage], bool],
        *,
        after: int,
        what: str,
        timeout_s: float = EVENT_WAIT_S,
    ) -> Dm1 | None:
        """The first DM1 after mark ``after`` that satisfies ``condition``; None if none came in time."""

        def first() -> Dm1 | None:
            return next((dm1 for dm1 in self.dm1s(after) if condition(dm1.message)), None)

        try:
            return wait_until(
                first, lambda f: f is not None, timeout_s=timeout_s, what=what, poll_s=DM1_POLL_S
            )
        except WaitTimeout:
            return None

    def intervals(self, count: int) -> list[float]:
        """The gaps between the next ``count`` + 1 DM1 broadcasts."""
        mark = self.mark()
        wait_until(
            lambda: len(self.dm1s(mark)),
            lambda n: n > count,
            timeout_s=(count + 1) * EVENT_WAIT_S,
            what=f"{count + 1} DM1 from 0x{self.address:02X}",
            poll_s=RESET_POLL_S,
        )
        times = [dm1.time_s for dm1 in self.dm1s(mark)][: count + 1]
        return [b - a for a, b in itertools.pairwise(times)]

    # --- stimuli -----------------------------------------------------------------------------------
    def reset_until(self, condition: Callable[[DmMessage], bool], what: str) -> None:
        """Fault resets from the VCU until a DM1 satisfies ``condition``."""
        mark = self.mark()

        def reset_and_look() -> DmMessage | None:
            self.vcu.fault_reset()
            received = self.dm1s(mark)
            return received[-1].message if received else None

        wait_until(
            reset_and_look,
            lambda dm: dm is not None and condition(dm),
            timeout_s=EVENT_WAIT_S,
            what=what,
            poll_s=RESET_POLL_S,
        )

    def clean_start(self, state: str = "powered") -> None:
        """``state`` with no DTC active. The way up to drive_ready resets every latch, those that
        clear only with the DC link up too (what a safe state leaves behind); powered is the way
        back down from there, with the contactors opened in order."""
        self.drive.transition("drive_ready")
        self.drive.transition(state)
        self.reset_until(lambda dm: not dm.dtcs, f"{state}: no active DTC after a fault reset")

    def _event(self, start: Callable[[], None], what: str) -> Dm1 | None:
        before = self.latest_keys()
        mark = self.mark()
        start()
        found = self.next_dm1(lambda dm: bool(keys(dm) - before), after=mark, what=what)
        return None if found is None else replace(found, new=frozenset(found.keys - before))

    def passing_warning(self) -> Dm1 | None:
        """TSC1 stops until the command-timeout warning shows in DM1, then runs again; the warning
        goes and its DTC stays as previously active. Returns the DM1 that showed it."""
        try:
            event = self._event(self.vcu.hold_torque_requests, "a new DTC in DM1 with TSC1 stopped")
        finally:
            self.vcu.start_torque_requests()
        if event is not None:
            gone = event.new
            self.next_dm1(
                lambda dm: not keys(dm) & gone, after=self.mark(), what="warning gone with TSC1 back"
            )
        return event

    def trip(self) -> tuple[Dm1 | None, float]:
        """One cell below the under-voltage trip: the DM1 that showed the new DTCs, and the instant
        the step was sent (the cell crosses the trip level no earlier: a time from it is an upper bound)."""
        stepped: list[float] = []

        def step() -> None:
            stepped.append(time.monotonic())
            self.cellsim.set_cell_voltage(TRIP_CELL, TRIP_CELL_V)

        return self._event(step, "a new DTC in DM1 with a cell below the trip"), stepped[0]

    def end_trip(self, tripped: frozenset[Key]) -> None:
        """The cell back to rest and the trip reset, until DM1 no longer shows ``tripped``."""
        self.cellsim.set_cell_voltage(TRIP_CELL, RESTING_CELL_V)
        self.reset_until(
            lambda dm: not keys(dm) & tripped, "tripped DTCs gone after the cell is back and a reset"
        )
