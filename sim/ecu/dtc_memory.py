"""Fault memory of the simulated firmware: DTCs with ISO 14229 status bits, occurrence counter,
snapshot of its latest failure, aging; the lamp each fault carries.

Simplifications, all [E]: a failure is confirmed ``confirmation_delay_s`` after the plant reports
it (at once by default: the plant debounces its protections before it reports them); a DTC ages
out after ``aging_threshold`` operation cycles without a failure; after a clear, a fault that is
still present re-sets after ``redetect_delay_s``, the time its monitor needs to run again.

``MemoryDefects`` are firmware defects of the fault memory a good test suite must catch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, IntFlag


class Status(IntFlag):
    """ISO 14229-1 DTC status byte [S: reference §5.4, CSDN DTC-status table]."""

    TEST_FAILED = 0x01
    TEST_FAILED_THIS_OPERATION_CYCLE = 0x02
    PENDING = 0x04
    CONFIRMED = 0x08
    TEST_NOT_COMPLETED_SINCE_LAST_CLEAR = 0x10
    TEST_FAILED_SINCE_LAST_CLEAR = 0x20
    TEST_NOT_COMPLETED_THIS_OPERATION_CYCLE = 0x40
    WARNING_INDICATOR_REQUESTED = 0x80


STATUS_AVAILABILITY_MASK = 0xFF
_NO_STATUS = Status(0)


class Lamp(Enum):
    """The lamp a fault lights while active: amber for warnings, red stop for trips."""

    AMBER = "amber"
    RED_STOP = "red_stop"
    MIL = "mil"
    PROTECT = "protect"


# Two faults stored under one DTC light the more severe lamp of the two while it is active.
_LAMP_SEVERITY = {Lamp.PROTECT: 0, Lamp.AMBER: 1, Lamp.RED_STOP: 2, Lamp.MIL: 3}

# What the plant may put in a snapshot; the UDS server encodes exactly these (see uds_server.py).
SNAPSHOT_KEYS = ("dc_voltage_v", "speed_rpm", "temperature_c")


@dataclass
class DtcRecord:
    spn: int
    fmi: int
    lamp: Lamp
    status: Status = _NO_STATUS
    occurrences: int = 0
    aging_cycles: int = 0
    snapshot: dict[str, float] | None = None

    @property
    def active(self) -> bool:
        return bool(self.status & Status.TEST_FAILED)


@dataclass
class _Condition:
    """What the plant last said about a fault, kept apart from the stored DTC so a clear does not
    forget a fault that is still there."""

    lamp: Lamp
    present: bool
    snapshot: dict[str, float] | None
    blocked_until_s: float = field(default=0.0)


@dataclass(frozen=True)
class MemoryDefects:
    """occurrences_lost_on_pass: the occurrence counter restarts when the fault goes away.
    snapshot_not_frozen: the snapshot is overwritten at every report of the fault (its clearing
    too) instead of held from the failure that set the DTC.
    never_confirmed: the status byte never shows confirmedDTC."""

    occurrences_lost_on_pass: bool = False
    snapshot_not_frozen: bool = False
    never_confirmed: bool = False


class DtcMemory:
    """Thread-safe: the plant reports from its thread, the J1939 and UDS servers read from theirs."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        redetect_delay_s: float = 0.2,
        aging_threshold: int = 40,
        confirmation_delay_s: float = 0.0,
        defects: MemoryDefects | None = None,
    ) -> None:
        self._clock = clock
        self._redetect_delay_s = redetect_delay_s
        self._confirmation_delay_s = confirmation_delay_s
        self._aging_threshold = aging_threshold
        self._defects = defects or MemoryDefects()
        self._records: dict[tuple[int, int], DtcRecord] = {}
        self._conditions: dict[tuple[int, int], _Condition] = {}
        self._lock = threading.RLock()

    # -- the plant's side ----------------------------------------------------------------------
    def report(
        self,
        spn: int,
        fmi: int,
        active: bool,
        snapshot: Mapping[str, float] | None = None,
        lamp: Lamp = Lamp.AMBER,
    ) -> None:
        if not 0 <= spn < 1 << 19:
            raise ValueError(f"report_fault: spn={spn} must be 0..524287 (19 bits)")
        if not 0 <= fmi <= 31:
            raise ValueError(f"report_fault: fmi={fmi} must be 0..31")
        unknown = set(snapshot or {}) - set(SNAPSHOT_KEYS)
        if unknown:
            raise ValueError(f"report_fault: unknown snapshot keys {sorted(unknown)}; known: {SNAPSHOT_KEYS}")
        with self._lock:
            key = (spn, fmi)
            now = self._clock()
            condition = self._conditions.get(key)
            if condition is None:
                condition = self._conditions[key] = _Condition(lamp=lamp, present=False, snapshot=None)
            if active and not condition.present:  # a new occurrence: its confirmation starts now
                condition.blocked_until_s = max(condition.blocked_until_s, now + self._confirmation_delay_s)
            condition.lamp, condition.present = lamp, active
            condition.snapshot = dict(snapshot) if snapshot else condition.snapshot
            record = self._records.get(key)
            if record is not None and snapshot and self._defects.snapshot_not_frozen:
                record.snapshot = dict(snapshot)
            if active:
                if now >= condition.blocked_until_s:
                    self._fail(key, condition)
            else:
                condition.blocked_until_s = 0.0  # gone: when it comes back its monitor starts afresh
                self._pass(key)

    def tick(self) -> None:
        """Re-run the monitors: a fault still present after a clear sets its DTC again."""
        with self._lock:
            now = self._clock()
            for key, condition in self._conditions.items():
                if condition.present and now >= condition.blocked_until_s:
                    self._fail(key, condition)

    def _fail(self, key: tuple[int, int], condition: _Condition) -> None:
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = DtcRecord(spn=key[0], fmi=key[1], lamp=condition.lamp)
        if record.active:
            if _LAMP_SEVERITY[condition.lamp] > _LAMP_SEVERITY[record.lamp]:
                record.lamp = condition.lamp
            return
        record.lamp = condition.lamp
        record.snapshot = condition.snapshot
        record.occurrences = min(record.occurrences + 1, 126)
        record.aging_cycles = 0
        record.status |= (
            Status.TEST_FAILED
            | Status.TEST_FAILED_THIS_OPERATION_CYCLE
            | Status.PENDING
            | Status.TEST_FAILED_SINCE_LAST_CLEAR
            | Status.WARNING_INDICATOR_REQUESTED
        )
        if not self._defects.never_confirmed:
            record.status |= Status.CONFIRMED
        record.status &= ~(
            Status.TEST_NOT_COMPLETED_SINCE_LAST_CLEAR | Status.TEST_NOT_COMPLETED_THIS_OPERATION_CYCLE
        )

    def _pass(self, key: tuple[int, int]) -> None:
        record = self._records.get(key)
        if record is not None:
            record.status &= ~(
                Status.TEST_FAILED
                | Status.WARNING_INDICATOR_REQUESTED
                | Status.TEST_NOT_COMPLETED_THIS_OPERATION_CYCLE
            )
            if self._defects.occurrences_lost_on_pass:
                record.occurrences = 0

    def new_operation_cycle(self) -> None:
        """Key-off/key-on (or a hard reset): per-cycle bits restart, unfailed DTCs age."""
        with self._lock:
            for key, record in list(self._records.items()):
                failed_this_cycle = bool(record.status & Status.TEST_FAILED_THIS_OPERATION_CYCLE)
                if not failed_this_cycle and not record.active:
                    record.status &= ~Status.PENDING
                    record.aging_cycles += 1
                    if record.aging_cycles >= self._aging_threshold:
                        del self._records[key]
                        continue
                record.status &= ~Status.TEST_FAILED_THIS_OPERATION_CYCLE
                record.status |= Status.TEST_NOT_COMPLETED_THIS_OPERATION_CYCLE

    # -- the diagnostic servers' side ----------------------------------------------------------
    def records(self) -> list[DtcRecord]:
        with self._lock:
            return [DtcRecord(**vars(r)) for r in self._records.values()]

    def active(self) -> list[DtcRecord]:
        return [r for r in self.records() if r.active]

    def previously_active(self) -> list[DtcRecord]:
        """Stored, not failing now: what DM2 reports."""
        return [r for r in self.records() if not r.active]

    def find(self, spn: int, fmi: int) -> DtcRecord | None:
        with self._lock:
            record = self._records.get((spn, fmi))
            return None if record is None else DtcRecord(**vars(record))

    def clear_active(self) -> None:
        """DM11: forget the active DTCs; a fault still present re-sets after the re-detect delay."""
        self._clear(lambda r: r.active)

    def clear_previously_active(self) -> None:
        """DM3: forget the DTCs that are stored but not active."""
        self._clear(lambda r: not r.active)

    def clear_all(self) -> None:
        """UDS 0x14 FFFFFF."""
        self._clear(lambda r: True)

    def _clear(self, which: Callable[[DtcRecord], bool]) -> None:
        with self._lock:
            blocked_until = self._clock() + self._redetect_delay_s
            for key, record in list(self._records.items()):
                if which(record):
                    del self._records[key]
                    condition = self._conditions.get(key)
                    if condition is not None and condition.present:
                        condition.blocked_until_s = max(condition.blocked_until_s, blocked_until)
