"""Faults a real bench can suffer, injected through the simulator's own controls (never through the
framework): an instrument that drops its connection, goes silent, garbles a reply, queues an error,
latches a protection trip or a dyno alarm; a silent CAN bus, a bus-off, a DUT that stops answering
UDS.

A fault is armed on a target (an instrument's name, ``can`` or ``dut``), at once or after the target
has received ``after`` more commands (CAN frames for ``can`` and ``dut``), for ``times`` firings
(default: once for ``drop``, ``error``, ``trip`` and ``alarm``; until cleared otherwise). One fault
per target; arming again replaces it. ``silent`` and ``malformed`` fire only on commands that have a
reply.

The control port speaks one line per command, one line back (``ok``, a JSON document, or ``error
<what>``)::

    ARM <target> <fault> [after=N] [times=M]
    CLEAR [<target>]
    FAULTS?
    RESET            (a served bench: power-cycle it, see ``sim.service.ServedBench``)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import can

from sim.emulators.base import Emulator, ScpiEmulator
from sim.plant.supply import OVER_VOLTAGE
from sim.server import ConnectionDropped, LineServer

log = logging.getLogger("sim.injection")

INSTRUMENT_FAULTS = ("drop", "silent", "malformed", "error", "trip", "alarm")
CAN_FAULTS = ("silent", "busoff")
DUT_FAULTS = ("silent",)
ONE_SHOT = ("drop", "error", "trip", "alarm")
# what a garbled reply looks like: neither a number, a list, nor an identity
MALFORMED_REPLY = b"#\x7f?garbled"
INJECTED_ERROR = (-300, "Device-specific error;hardware fault")
# J1939 PDU formats that carry UDS on CAN (ISO 15765-2 normal fixed addressing): physical, functional
UDS_PDU_FORMATS = (0xDA, 0xDB)


@dataclass
class Armed:
    target: str
    fault: str
    after: int
    times: int | None
    seen: int = 0
    fired: int = 0

    def due(self) -> bool:
        """Counts one command (or frame); true when the fault acts on it."""
        self.seen += 1
        return self.seen > self.after and (self.times is None or self.fired < self.times)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultInjector:
    """The faults armed on one simulated bench. ``wrap`` puts an instrument's command handler
    behind it, ``can_gate`` decides for each CAN frame through socketcand; ``drop_can_links`` is
    called on a bus-off."""

    def __init__(self, emulators: dict[str, Emulator], has_socketcand: bool) -> None:
        self._emulators = emulators
        self._has_socketcand = has_socketcand
        self._armed: dict[str, Armed] = {}
        self._lock = threading.Lock()
        self.drop_can_links: Callable[[], None] = lambda: None

    # --- arming -----------------------------------------------------------------------------------
    def arm(self, target: str, fault: str, after: int = 0, times: int | None = None) -> None:
        """Arm ``fault`` on ``target``; a target or fault it cannot take is a ``ValueError`` naming it."""
        self._check(target, fault)
        if after < 0 or (times is not None and times < 1):
            raise ValueError(f"{target} {fault}: after must be >= 0 and times >= 1")
        if times is None and fault in ONE_SHOT:
            times = 1
        armed = Armed(target, fault, after, times)
        with self._lock:
            self._armed[target] = armed
        log.warning("fault armed: %s", armed)
        if after == 0:
            self._act_at_once(armed)

    def _check(self, target: str, fault: str) -> None:
        if target in ("can", "dut"):
            allowed = CAN_FAULTS if target == "can" else DUT_FAULTS
            if fault not in allowed:
                raise ValueError(f"{target}: no fault {fault!r}; known: {', '.join(allowed)}")
            if not self._has_socketcand:
                raise ValueError(f"{target} {fault}: CAN faults need the bench's CAN served over socketcand")
            return
        if target not in self._emulators:
            known = ", ".join([*self._emulators, "can", "dut"])
            raise ValueError(f"no fault target {target!r}; known: {known}")
        if fault not in INSTRUMENT_FAULTS:
            raise ValueError(f"{target}: no fault {fault!r}; known: {', '.join(INSTRUMENT_FAULTS)}")
        kind = self._emulators[target].kind
        if fault == "error" and not isinstance(self._emulators[target], ScpiEmulator):
            raise ValueError(f"{target}: an error-queue fault needs a SCPI instrument, not a {kind}")
        if fault == "trip" and kind != "supply":
            raise ValueError(f"{target}: a latched protection trip is a supply's, not a {kind}'s")
        if fault == "alarm" and kind != "dyno":
            raise ValueError(f"{target}: an alarm is a dyno's, not a {kind}'s")

    def clear(self, target: str | None = None) -> None:
        with self._lock:
            if target is None:
                self._armed.clear()
            else:
                self._armed.pop(target, None)

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(a) for a in self._armed.values()]

    def _take(self, target: str) -> Armed | None:
        """The fault armed on ``target`` if it acts on this command; counts the command."""
        with self._lock:
            armed = self._armed.get(target)
            if armed is None or not armed.due():
                return None
            return armed

    def _fired(self, armed: Armed) -> None:
        with self._lock:
            armed.fired += 1
            if armed.spent and self._armed.get(armed.target) is armed:
                del self._armed[armed.target]
        if armed.fired == 1:
            log.warning("fault fired: %s %s", armed.target, armed.fault)

    def _act_at_once(self, armed: Armed) -> None:
        """State faults (a trip, an alarm, an error entry, a bus-off) act on arming when not delayed."""
        if armed.fault in ("trip", "alarm", "error") or (armed.target == "can" and armed.fault == "busoff"):
            with self._lock:
                armed.seen += 1
            self._apply_state(armed)

    def _apply_state(self, armed: Armed) -> None:
        if armed.target == "can":
            self._fired(armed)
            self.drop_can_links()  # a bus-off: the link drops; the bus stays dead until cleared
            return
        emulator = self._emulators[armed.target]
        if armed.fault == "trip":
            with emulator.simulation.now():
                emulator.physics.trip(OVER_VOLTAGE)
        elif armed.fault == "alarm":
            with emulator.simulation.now():
                emulator.physics.alarm = True
        elif armed.fault == "error":
            assert isinstance(emulator, ScpiEmulator)
            emulator.engine.push_error(*INJECTED_ERROR)
        self._fired(armed)

    # --- the wire ---------------------------------------------------------------------------------
    def wrap(self, name: str, handle: Callable[[str], bytes | None]) -> Callable[[str], bytes | None]:
        def handle_with_faults(line: str) -> bytes | None:
            armed = self._take(name)
            if armed is None:
                return handle(line)
            if armed.fault == "drop":
                self._fired(armed)
                raise ConnectionDropped(f"{name}: connection dropped by an injected fault")
            if armed.fault in ("trip", "alarm", "error"):
                self._apply_state(armed)
                return handle(line)
            reply = handle(line)
            if reply is None:
                return None
            self._fired(armed)
            return None if armed.fault == "silent" else MALFORMED_REPLY

        return handle_with_faults

    def can_gate(self, from_client: bool, message: can.Message) -> bool:
        """Whether a frame passes socketcand (``from_client``: the test's frame to the bus)."""
        if not self._armed:
            return True
        bus = self._take("can")
        if bus is not None:
            if bus.fault == "busoff" and bus.fired == 0:
                self._apply_state(bus)
            else:
                self._fired(bus)
            return False
        if from_client and (message.arbitration_id >> 16) & 0xFF in UDS_PDU_FORMATS:
            return self._take("dut") is None
        return True


class ControlServer:
    """The control port: ``ARM``/``CLEAR``/``FAULTS?`` on ``injector()`` (the bench of the moment)
    and ``RESET`` through ``reset`` (None: not offered). Loopback only; port 0 picks a free one."""

    def __init__(
        self, injector: Callable[[], FaultInjector], reset: Callable[[], None] | None = None, port: int = 0
    ) -> None:
        self._injector, self._reset = injector, reset
        self._server = LineServer("control", self._handle, b"\n", port)
        self.port = self._server.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _handle(self, line: str) -> bytes:
        try:
            return self._command(line.split()).encode()
        except ValueError as exc:
            return f"error {exc}".encode()

    def _command(self, words: list[str]) -> str:
        if not words:
            raise ValueError("empty command; ARM, CLEAR, FAULTS? or RESET")
        verb = words[0].upper()
        if verb == "ARM" and len(words) >= 3:
            options = dict(_option(word) for word in words[3:])
            unknown = set(options) - {"after", "times"}
            if unknown:
                raise ValueError(f"ARM: unknown option {sorted(unknown)[0]!r}; after=N, times=M")
            self._injector().arm(words[1], words[2], options.get("after", 0), options.get("times"))
            return "ok"
        if verb == "CLEAR" and len(words) <= 2:
            self._injector().clear(words[1] if len(words) == 2 else None)
            return "ok"
        if verb == "FAULTS?" and len(words) == 1:
            return json.dumps(self._injector().armed())
        if verb == "RESET" and len(words) == 1 and self._reset is not None:
            self._reset()
            return "ok"
        raise ValueError(
            f"{' '.join(words)!r}: expected ARM <target> <fault> [after=N] [times=M], "
            "CLEAR [<target>], FAULTS?" + (" or RESET" if self._reset else "")
        )

    def stop(self) -> None:
        self._server.stop()


def _option(word: str) -> tuple[str, int]:
    key, sep, value = word.partition("=")
    if not sep or not value.isdigit():
        raise ValueError(f"{word!r}: expected after=N or times=M")
    return key.lower(), int(value)


class FaultControl:
    """A client of the control port (``host:port``), for tests and scripts."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        import socket

        host, _, port = address.rpartition(":")
        self._socket = socket.create_connection((host, int(port)), timeout=timeout_s)
        self._file = self._socket.makefile("rwb")

    def send(self, line: str) -> str:
        self._file.write(line.encode() + b"\n")
        self._file.flush()
        reply = self._file.readline().decode().strip()
        if reply.startswith("error "):
            raise ValueError(reply.removeprefix("error "))
        return reply

    def arm(self, target: str, fault: str, after: int = 0, times: int | None = None) -> None:
        self.send(f"ARM {target} {fault} after={after}" + (f" times={times}" if times else ""))

    def clear(self, target: str | None = None) -> None:
        self.send("CLEAR" + (f" {target}" if target else ""))

    def armed(self) -> list[dict[str, Any]]:
        return json.loads(self.send("FAULTS?"))

    def reset(self) -> None:
        self.send("RESET")

    def close(self) -> None:
        self._file.close()
        self._socket.close()

    def __enter__(self) -> FaultControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
