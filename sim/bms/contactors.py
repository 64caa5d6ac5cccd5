"""Contactor and pre-charge sequence (reference BMS-07/08; foxBMS 2 defaults [S]).

Close the negative and the pre-charge contactor; close the main contactor once the link is
charged; open the pre-charge contactor a short delay after the main contactor's auxiliary contact
reports closed. An attempt that has not closed the main contactor within the timeout opens
everything, waits, and tries again; after the last attempt the sequence latches until a reset.

"Charged" is foxBMS's rule (``BMS_CheckPrecharge``): |V_pack − V_link| < 1 V **and** |I| < 50 mA,
both as the BMS measures them. With a 537.6 V pack and τ = 100 ms that takes ≈ 7 τ, more than the
5 τ of reference BMS-07, which fits the alternative rule V_link ≥ 95 % V_pack (3 τ). A non-zero
``precharge_link_ratio`` selects that alternative (no current condition: 5 % of the pack voltage
across the pre-charge resistor is still amperes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class ContactorState(Enum):
    OPEN = "open"
    PRECHARGE = "precharge"
    CLOSED = "closed"
    ERROR = "error"  # opened by a fault; back to OPEN once the faults are reset
    LATCHED = "latched"  # pre-charge attempts exhausted or a contactor welded; needs a reset


@dataclass(frozen=True, slots=True)
class Contactors:
    """One flag per contactor, True = closed: a command, or what the auxiliary contacts report."""

    negative: bool = False
    precharge: bool = False
    main: bool = False


ALL_OPEN = Contactors()
PRECHARGING = Contactors(negative=True, precharge=True)
CLOSING_MAIN = Contactors(negative=True, precharge=True, main=True)
ALL_CLOSED = Contactors(negative=True, main=True)


class _Phase(Enum):
    CHARGING = 1
    CLOSING_MAIN = 2
    OPENING_PRECHARGE = 3
    WAITING = 4


class PrechargeSequencer:
    def __init__(self, params: Mapping[str, float]) -> None:
        self.voltage_threshold_v = params["precharge_voltage_threshold"]
        self.current_threshold_a = params["precharge_current_threshold"]
        self.link_ratio = params["precharge_link_ratio"]
        self.timeout_s = params["precharge_timeout"]
        self.retry_wait_s = params["precharge_retry_wait"]
        self.max_attempts = round(params["precharge_attempts"])
        self.open_delay_s = params["precharge_open_delay"]
        self.min_pack_v = params["precharge_min_pack_voltage"]
        self.state = ContactorState.OPEN
        self.command = ALL_OPEN
        self.attempt = 0
        self._phase = _Phase.CHARGING
        self._attempt_start_s = 0.0
        self._mark_s = 0.0  # when the main contactor closed, or when the retry wait began

    def precharged(self, pack_v: float, link_v: float, current_a: float) -> bool:
        if self.link_ratio > 0.0:
            return link_v >= self.link_ratio * pack_v
        return abs(pack_v - link_v) < self.voltage_threshold_v and abs(current_a) < self.current_threshold_a

    def latch(self) -> None:
        self.state = ContactorState.LATCHED
        self.command = ALL_OPEN

    def update(
        self,
        t_s: float,
        close_request: bool,
        fault_active: bool,
        pack_v: float,
        link_v: float,
        current_a: float,
        main_closed: bool,
    ) -> tuple[str, float] | None:
        """One firmware cycle at ``t_s``. Returns ("retry" | "latched", time of the failure) when an
        attempt ran out of time."""
        if self.state in (ContactorState.LATCHED, ContactorState.ERROR):
            if not fault_active:  # red faults clear only on a reset
                self._to_open()
            return None
        if fault_active:
            self.state = ContactorState.ERROR
            self.command = ALL_OPEN
            return None
        if not close_request:
            self._to_open()
            return None
        if self.state is ContactorState.OPEN:
            if pack_v < self.min_pack_v:  # no pack voltage yet: nothing to pre-charge from
                return None
            self.attempt = 1
            self._start_attempt(t_s)
            return None
        if self.state is ContactorState.CLOSED:
            return None
        return self._precharge(t_s, pack_v, link_v, current_a, main_closed)

    def _precharge(
        self, t_s: float, pack_v: float, link_v: float, current_a: float, main_closed: bool
    ) -> tuple[str, float] | None:
        phase = self._phase
        if phase is _Phase.WAITING:
            if t_s - self._mark_s >= self.retry_wait_s:
                self.attempt += 1
                self._start_attempt(t_s)
            return None
        if phase is _Phase.OPENING_PRECHARGE:
            if t_s - self._mark_s >= self.open_delay_s:
                self.state = ContactorState.CLOSED
                self.command = ALL_CLOSED
            return None
        if phase is _Phase.CHARGING and self.precharged(pack_v, link_v, current_a):
            self._phase = _Phase.CLOSING_MAIN
            self.command = CLOSING_MAIN
            return None
        if phase is _Phase.CLOSING_MAIN and main_closed:
            self._phase = _Phase.OPENING_PRECHARGE
            self._mark_s = t_s
            return None
        failed_at = self._attempt_start_s + self.timeout_s
        if t_s < failed_at:
            return None
        self.command = ALL_OPEN
        if self.attempt >= self.max_attempts:
            self.state = ContactorState.LATCHED
            return "latched", failed_at
        self._phase = _Phase.WAITING
        self._mark_s = failed_at
        return "retry", failed_at

    def _start_attempt(self, t_s: float) -> None:
        self.state = ContactorState.PRECHARGE
        self.command = PRECHARGING
        self._phase = _Phase.CHARGING
        self._attempt_start_s = t_s

    def _to_open(self) -> None:
        self.state = ContactorState.OPEN
        self.command = ALL_OPEN
        self.attempt = 0
