"""Reading the drive system's broadcast signals by name, as the DBC defines them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import can
import cantools

from hil.dut.dbc import load_drive_dbc


class SignalWatch:
    """Decodes the frames a bus receives and waits for a signal to meet a condition."""

    def __init__(self, bus: can.BusABC, database: cantools.database.can.Database | None = None) -> None:
        self.bus = bus
        self.db = database or load_drive_dbc()
        self._by_id = {m.frame_id: m for m in self.db.messages}

    def wait_for(
        self, message: str, signal: str, condition: Callable[[Any], bool], timeout_s: float
    ) -> dict[str, Any]:
        """The first decoded ``message`` whose ``signal`` meets ``condition``; TimeoutError names the
        message, the signal and the last value seen."""
        wanted = self.db.get_message_by_name(message).frame_id
        deadline = time.monotonic() + timeout_s
        last: Any = "never received"
        while (left := deadline - time.monotonic()) > 0:
            frame = self.bus.recv(timeout=left)
            if frame is None or frame.arbitration_id != wanted:
                continue
            values = self._by_id[wanted].decode(frame.data, decode_choices=True)
            last = values[signal]
            if condition(last):
                return values
        raise TimeoutError(
            f"{message}.{signal} did not meet the condition within {timeout_s:g} s (last: {last})"
        )
