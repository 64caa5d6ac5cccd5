"""What the diagnostics scenarios share (the ``diagnostics`` fixture of conftest.py): DM1 read as
sets of DTCs with their arrival times, a clean start, and the two faults a bench causes in well
under a second.

- a warning that comes and goes: the bench's VCU stops TSC1 for a moment, the drive's command-timeout
  warning sets (amber) and clears when TSC1 is back (INV-16's stimulus);
- a trip that stays until reset: one cell-simulator channel steps below the BMS under-voltage trip
  (BMS-02's stimulus); the BMS's under-voltage warning sets with it.

A DTC is identified by what the unit reports (SPN, FMI): the fault's own DTC from the product's DTC
table once a DM1 shows it, or, if none does in time, the new DTCs with the fault's SPN, or whatever
new DTC the unit shows. So a scenario about DM2 or a clear still judges its own criterion on a unit
that encodes the DTC wrongly (DIAG-01 judges that), and a DTC the stimulus did not cause does not
pass for the fault's. The first DM1 with a new DTC under the fault's SPN is when the unit reported
the condition: a unit whose trip is slower than its warning of the same quantity (both under one
SPN) shows the warning there first, and its trip's DTC later.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hil.dut.dtc import DmMessage, decode_dm
from hil.dut.j1939 import PGN_DM1, J1939Client
from hil.dut.vcu import Vcu
from hil.product import ProductDtc
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
    history (a mark), the interface's timestamp of its first frame, and the DTCs it added to the DM1
    before a stimulus."""

    message: DmMessage
    time_s: float
    sequence: int
    bus_time_s: float
    new: frozenset[Key] = frozenset()

    @property
    def keys(self) -> set[Key]:
        return keys(self.message)

    def of(self, spn: int) -> frozenset[Key]:
        """The new DTCs with this SPN; all the new ones if none has it."""
        return frozenset(k for k in self.new if k[0] == spn) or self.new


class Diagnostics:
    """The drive's diagnostics as a scenario sees them: DM1 from ``address`` on the bench's J1939 link."""

    def __init__(
        self,
        j1939: J1939Client,
        vcu: Vcu,
        drive: DriveStrategy,
        cellsim: Guarded,
        address: int,
        warning: ProductDtc,
        trip: ProductDtc,
    ) -> None:
        self.j1939, self.vcu, self.drive, self.cellsim = j1939, vcu, drive, cellsim
        self.address = address
        self.warning, self.trip_dtc = warning, trip

    # --- DM1 ---------------------------------------------------------------------------------------
    def mark(self) -> int:
        return self.j1939.mark()

    def dm1s(self, after: int) -> list[Dm1]:
        return [
            Dm1(decode_dm(m.data), m.time_s, m.sequence, m.bus_time_s)
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
        """The next ``count`` gaps between DM1 broadcasts of unchanged content (a DM1 sent because its
        content changed is not a period), on the interface's timestamps of their first frames."""
        mark = self.mark()

        def gaps() -> list[float]:
            received = self.dm1s(mark)
            return [
                b.bus_time_s - a.bus_time_s for a, b in itertools.pairwise(received) if a.message == b.message
            ]

        found = wait_until(
            gaps,
            lambda g: len(g) >= count,
            timeout_s=(count + 1) * EVENT_WAIT_S,
            what=f"{count} DM1 periods from 0x{self.address:02X}",
            poll_s=DM1_POLL_S,
        )
        return found[:count]

    # --- stimuli -----------------------------------------------------------------------------------
    def reset_until(self, condition: Callable[[DmMessage], bool], what: str, quiet: bool = False) -> bool:
        """Fault resets from the VCU until a DM1 satisfies ``condition``; ``quiet``: False when none
        did in time rather than an error."""
        mark = self.mark()

        def reset_and_look() -> DmMessage | None:
            self.vcu.fault_reset()
            received = self.dm1s(mark)
            return received[-1].message if received else None

        try:
            wait_until(
                reset_and_look,
                lambda dm: dm is not None and condition(dm),
                timeout_s=EVENT_WAIT_S,
                what=what,
                poll_s=RESET_POLL_S,
            )
        except WaitTimeout:
            if quiet:
                return False
            raise
        return True

    def clean_start(self, state: str = "powered") -> None:
        """``state`` with no DTC active, its latches reset. A latch that clears only with the DC link
        up (the DC under-voltage a safe state can leave) needs the way up to drive_ready, which
        resets once the contactors are closed; powered is then the way back down, contactors opened
        in order."""
        self.drive.transition(state)
        if self.reset_until(
            lambda dm: not dm.dtcs, f"{state}: no active DTC after a fault reset", quiet=True
        ):
            return
        self.drive.transition("drive_ready")
        self.drive.transition(state)
        self.reset_until(lambda dm: not dm.dtcs, f"{state}: no active DTC after a fault reset")

    def _event(self, start: Callable[[], None], dtc: ProductDtc, what: str) -> tuple[Dm1 | None, Dm1 | None]:
        """``start()`` the stimulus: (shown, first), each a DM1 with the DTCs it added. ``shown`` is
        the first that then showed ``dtc`` itself, or ``first`` if none did in time; ``first`` the
        first that showed a new DTC with ``dtc``'s SPN, or any new DTC."""
        before = self.latest_keys()
        mark = self.mark()
        start()
        shown = self.next_dm1(lambda dm: (dtc.spn, dtc.fmi) in keys(dm) - before, after=mark, what=what)
        added = [
            replace(dm1, new=frozenset(dm1.keys - before)) for dm1 in self.dm1s(mark) if dm1.keys - before
        ]
        first = next((dm1 for dm1 in added if any(spn == dtc.spn for spn, _ in dm1.new)), None)
        first = first or next(iter(added), None)
        if shown is None:
            return first, first
        return replace(shown, new=frozenset(shown.keys - before)), first

    def passing_warning(self) -> Dm1 | None:
        """TSC1 stops until the command-timeout warning shows in DM1, then runs again; the warning
        goes and its DTC stays as previously active. Returns the DM1 that showed it."""
        try:
            event, _ = self._event(self.vcu.hold_torque_requests, self.warning, "the warning's DTC in DM1")
        finally:
            resumed = self.mark()
            self.vcu.start_torque_requests()
        if event is not None:
            gone = event.of(self.warning.spn)
            self.next_dm1(lambda dm: not keys(dm) & gone, after=resumed, what="warning gone with TSC1 back")
        return event

    def trip(self) -> tuple[Dm1 | None, float]:
        """One cell below the under-voltage trip: the DM1 that showed the trip's DTC, and how long
        after the step was sent a DM1 first showed the condition (its SPN; the cell crosses the
        levels no earlier than the step: an upper bound), inf if none did."""
        stepped: list[float] = []

        def step() -> None:
            stepped.append(time.monotonic())
            self.cellsim.set_cell_voltage(TRIP_CELL, TRIP_CELL_V)

        shown, first = self._event(step, self.trip_dtc, "the trip's DTC in DM1")
        return shown, math.inf if first is None else first.time_s - stepped[0]

    def end_trip(self, tripped: frozenset[Key]) -> None:
        """The cell back to rest and the trip reset, until DM1 no longer shows ``tripped``."""
        self.cellsim.set_cell_voltage(TRIP_CELL, RESTING_CELL_V)
        self.reset_until(
            lambda dm: not keys(dm) & tripped, "tripped DTCs gone after the cell is back and a reset"
        )
