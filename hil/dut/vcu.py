"""The vehicle control unit the bench plays: TSC1 torque or speed requests every 10 ms and the
VCU_BmsCommand heartbeat every 100 ms, encoded from the drive DBC.

Both run as python-can cyclic tasks on the bench's shared bus; each frame is re-encoded from the
present request just before it goes out, so a request takes effect on the next period and the
message counters count every frame. Stopping a stream (``hold_torque_requests``,
``stop_heartbeat``) is how the command-timeout and heartbeat-loss scenarios are stimulated.

Their threads run at nice -10 where the process may raise them, as the simulated drive's own CAN
threads do: a real VCU is an ECU of its own, and a heartbeat held back behind the machine's other
work reads as heartbeat loss (the BMS opens its contactors) on a unit that did nothing wrong.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from typing import Any

import can
import cantools

from hil.errors import HilError
from hil.realtime import threads_started_ahead
from hil.timing import wait_until


class ControlMode(enum.IntEnum):
    """TSC1 override control mode (SPN 695) [R]."""

    NO_OVERRIDE = 0
    SPEED = 1
    TORQUE = 2
    SPEED_TORQUE_LIMIT = 3


class VcuError(HilError):
    """A request the VCU cannot put on the bus (out of the signal's range, not a number)."""


def _compose(message: cantools.database.can.Message, values: dict[str, float]) -> can.Message:
    data = message.encode(values, strict=True, padding=True)
    return can.Message(arbitration_id=message.frame_id, data=data, is_extended_id=True)


class Vcu:
    """Start with ``start()``; every request is checked against the DBC signal's range first."""

    def __init__(
        self,
        bus: can.BusABC,
        database: cantools.database.can.Database,
        *,
        reference_torque_nm: float,
        tsc1_period_s: float = 0.01,
        heartbeat_period_s: float = 0.1,
    ) -> None:
        self.bus = bus
        self._tsc1 = database.get_message_by_name("TSC1")
        self._command = database.get_message_by_name("VCU_BmsCommand")
        self.reference_torque_nm = reference_torque_nm
        self.tsc1_period_s = tsc1_period_s
        self.heartbeat_period_s = heartbeat_period_s
        self._lock = threading.Lock()
        self._mode = ControlMode.TORQUE
        self._torque_pct = 0.0
        self._speed_rpm = 0.0
        self._close = False
        self._tsc1_counter = 0
        self._command_counter = 0
        self._tsc1_task: Any = None
        self._heartbeat_task: Any = None
        self._tsc1_sent_s: float | None = None
        self._heartbeat_sent_s: float | None = None
        self._requests = 0  # TSC1 requests made; a frame carries the count as it was encoded
        self._carried: tuple[int, float] | None = None  # (count, when the first frame with it went)

    # --- requests ------------------------------------------------------------------------------
    def _signal_range(self, message: cantools.database.can.Message, name: str) -> tuple[float, float]:
        signal = message.get_signal_by_name(name)
        return float(signal.minimum), float(signal.maximum)

    def request_torque(self, torque_nm: float) -> int:
        """Ask the drive for ``torque_nm`` on the motor shaft (TSC1 torque control); the request's
        number, for ``request_sent_s``."""
        percent = 100.0 * torque_nm / self.reference_torque_nm
        low, high = self._signal_range(self._tsc1, "RequestedTorqueLimit")
        if not (math.isfinite(percent) and low <= percent <= high):
            raise VcuError(
                f"TSC1: torque {torque_nm!r} N·m is {percent:g} % of the {self.reference_torque_nm:g} N·m "
                f"reference, outside RequestedTorqueLimit [{low:g}, {high:g}] %"
            )
        with self._lock:
            self._mode, self._torque_pct = ControlMode.TORQUE, percent
            self._requests += 1
            return self._requests

    def request_speed(self, speed_rpm: float) -> int:
        """Ask the drive to hold the motor at ``speed_rpm`` (TSC1 speed control); the request's
        number, for ``request_sent_s``."""
        low, high = self._signal_range(self._tsc1, "RequestedSpeedLimit")
        if not (math.isfinite(speed_rpm) and low <= speed_rpm <= high):
            raise VcuError(
                f"TSC1: speed {speed_rpm!r} rpm outside RequestedSpeedLimit [{low:g}, {high:g}] rpm"
            )
        with self._lock:
            self._mode, self._speed_rpm = ControlMode.SPEED, speed_rpm
            self._requests += 1
            return self._requests

    def request_sent_s(self, request: int) -> float | None:
        """``time.monotonic()`` as the first TSC1 frame carrying request ``request`` (or a later one)
        went to the bus; None until one has. A frame encoded just before the request went out after
        it with the request before: the time of the request is not the time of its frame."""
        carried = self._carried
        return carried[1] if carried is not None and carried[0] >= request else None

    def wait_sent(self, request: int, *, timeout_s: float, poll_s: float, what: str) -> float:
        """``request_sent_s(request)`` once a frame has carried it; ``WaitTimeout`` naming ``what`` if
        none has within ``timeout_s``."""
        return wait_until(
            lambda: self.request_sent_s(request),
            lambda sent: sent is not None,
            timeout_s=timeout_s,
            what=what,
            poll_s=poll_s,
        )

    def close_contactors(self, close: bool = True) -> None:
        with self._lock:
            self._close = close

    def fault_reset(self) -> None:
        """One VCU_BmsCommand with FaultReset set, now: the drive and the BMS reset their latches."""
        with self._lock:
            frame = self._command_frame(reset=True)
        self.bus.send(frame)

    # --- frames ----------------------------------------------------------------------------------
    def _tsc1_frame(self) -> can.Message:
        self._tsc1_counter = (self._tsc1_counter + 1) & 0xF
        return _compose(
            self._tsc1,
            {
                "OverrideControlMode": int(self._mode),
                "RequestedSpeedCtrlConditions": 0,
                "OverrideCtrlModePriority": 0,  # highest priority [R]
                "RequestedSpeedLimit": self._speed_rpm if self._mode is ControlMode.SPEED else 0.0,
                "RequestedTorqueLimit": self._torque_pct if self._mode is ControlMode.TORQUE else 0.0,
                "TransmissionRate": 7,  # 7 = use the standard rate [R]
                "ControlPurpose": 0,
                "MessageChecksum": 0,
                "MessageCounter": self._tsc1_counter,
            },
        )

    def _command_frame(self, reset: bool = False) -> can.Message:
        self._command_counter = (self._command_counter + 1) & 0xF
        return _compose(
            self._command,
            {
                "CloseContactors": int(self._close),
                "FaultReset": int(reset),
                "MessageCounter": self._command_counter,
            },
        )

    def _next_tsc1(self, message: can.Message) -> None:
        with self._lock:
            fresh, carries = self._tsc1_frame(), self._requests
        message.data, message.dlc = fresh.data, fresh.dlc
        self._tsc1_sent_s = now = time.monotonic()  # the frame goes to the bus right after this
        if self._carried is None or self._carried[0] != carries:
            self._carried = (carries, now)

    def _next_command(self, message: can.Message) -> None:
        with self._lock:
            fresh = self._command_frame()
        message.data, message.dlc = fresh.data, fresh.dlc
        self._heartbeat_sent_s = time.monotonic()  # the frame goes to the bus right after this

    # --- streams ---------------------------------------------------------------------------------
    def start(self) -> Vcu:
        self.start_torque_requests()
        self.start_heartbeat()
        return self

    def start_torque_requests(self) -> None:
        if self._tsc1_task is None:
            with self._lock:
                first = self._tsc1_frame()
            with threads_started_ahead():  # a VCU keeps its period however busy the machine
                self._tsc1_task = self.bus.send_periodic(
                    first, self.tsc1_period_s, modifier_callback=self._next_tsc1
                )

    def hold_torque_requests(self) -> None:
        """Stop sending TSC1 (the drive's command timeout then acts)."""
        if self._tsc1_task is not None:
            self._tsc1_task.stop()
            self._tsc1_task = None

    def start_heartbeat(self) -> None:
        if self._heartbeat_task is None:
            with self._lock:
                first = self._command_frame()
            with threads_started_ahead():
                self._heartbeat_task = self.bus.send_periodic(
                    first, self.heartbeat_period_s, modifier_callback=self._next_command
                )

    def stop_heartbeat(self) -> None:
        """Stop sending VCU_BmsCommand (the BMS's heartbeat watch then acts)."""
        if self._heartbeat_task is not None:
            self._heartbeat_task.stop()
            self._heartbeat_task = None

    def neutral(self) -> None:
        """Zero torque, contactors asked open, both streams running: where every scenario starts."""
        with self._lock:
            self._mode, self._torque_pct, self._speed_rpm, self._close = ControlMode.TORQUE, 0.0, 0.0, False
        self.start()

    def stop(self) -> None:
        self.hold_torque_requests()
        self.stop_heartbeat()

    @property
    def last_torque_request_s(self) -> float | None:
        """``time.monotonic()`` as the latest TSC1 frame went to the bus; None before the first.

        After ``hold_torque_requests()`` a frame already on its way may still go out: read this
        once the stream has been quiet for a period."""
        return self._tsc1_sent_s

    @property
    def last_heartbeat_s(self) -> float | None:
        """``time.monotonic()`` as the latest VCU_BmsCommand (the BMS's heartbeat) went to the bus;
        None before the first. After ``stop_heartbeat()`` read it once a period has passed."""
        return self._heartbeat_sent_s

    @property
    def torque_request_nm(self) -> float:
        return (
            self._torque_pct * self.reference_torque_nm / 100.0 if self._mode is ControlMode.TORQUE else 0.0
        )
