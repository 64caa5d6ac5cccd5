"""A socketcand server (the linux-can/socketcand ASCII protocol, raw mode) on 127.0.0.1, bridging
each TCP client to the simulation's CAN channel through a bus of its own, as python-can's
``socketcand`` interface expects: ``< hi >``, ``< open can0 >`` → ``< ok >``, ``< rawmode >`` →
``< ok >``; then ``< frame ID SECS.USECS DATA >`` out and ``< send ID LEN B0 B1 … >`` in."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable

import can

from sim.server import LoopbackListener

log = logging.getLogger("sim.socketcand")

# python-can's client reads each handshake reply with one recv() and compares it whole; a frame
# following ``< ok >`` too closely would arrive glued to it, so frames start flowing after a pause
HANDSHAKE_QUIET_S = 0.05
# python-can's client sends each frame as it comes, Nagle's algorithm on: it holds a frame back
# until the one before is acknowledged, so this end acknowledges every read at once (Linux)
QUICKACK = getattr(socket, "TCP_QUICKACK", None)
# frames that arrived together are written together, up to what fits one 1 KiB read of the client
FRAMES_PER_WRITE = 16
STANDARD_ID_MAX = 0x7FF
EXTENDED_ID_MAX = 0x1FFFFFFF
CLASSIC_DATA_MAX = 8
_HEX = re.compile(r"[0-9A-Fa-f]+")
# the longest command a client has reason to send (a send of 8 bytes is ~40 characters); text that
# has not closed a command by then is garbage and is dropped rather than kept growing
COMMAND_MAX_CHARS = 1024


def frame_text(message: can.Message) -> str:
    width = 8 if message.is_extended_id else 3
    data = bytes(message.data).hex().upper()
    stamp = message.timestamp or time.time()
    return f"< frame {message.arbitration_id:0{width}X} {stamp:.6f} {data} >"


def frame_problem(message: can.Message) -> str | None:
    """What makes ``message`` a frame no classic CAN bus carries (None when a bus carries it)."""
    limit = EXTENDED_ID_MAX if message.is_extended_id else STANDARD_ID_MAX
    if not 0 <= message.arbitration_id <= limit:
        bits = 29 if message.is_extended_id else 11
        return f"identifier 0x{message.arbitration_id:X} does not fit {bits} bits"
    if len(message.data) > CLASSIC_DATA_MAX:
        return f"{len(message.data)} data bytes (classic CAN carries at most {CLASSIC_DATA_MAX})"
    return None


def _hex(field: str, what: str, text: str) -> int:
    # int(x, 16) would also take a sign, a 0x prefix and underscores
    if not _HEX.fullmatch(field):
        raise ValueError(f"{text!r}: {what} {field!r} is not hexadecimal")
    return int(field, 16)


def parse_send(text: str) -> can.Message:
    """``< send 0C000027 8 0 1 2 3 4 5 6 7 >`` → a message (extended when the id has > 3 digits).

    A command that is not one frame a classic CAN bus carries raises ValueError naming what is wrong.
    """
    fields = text.strip("<> ").split()
    if len(fields) < 3 or fields[0] != "send":
        raise ValueError(f"not a send command: {text!r}")
    length = _hex(fields[2], "length", text)
    if length > CLASSIC_DATA_MAX:
        raise ValueError(f"{text!r}: length {length} (classic CAN carries at most {CLASSIC_DATA_MAX} bytes)")
    data_fields = fields[3:]
    if len(data_fields) != length:
        raise ValueError(f"{text!r}: {len(data_fields)} data bytes for length {length}")
    data = []
    for field in data_fields:
        value = _hex(field, "data byte", text)
        if value > 0xFF:
            raise ValueError(f"{text!r}: data byte {field!r} is more than one byte")
        data.append(value)
    message = can.Message(
        arbitration_id=_hex(fields[1], "identifier", text), is_extended_id=len(fields[1]) > 3, data=data
    )
    problem = frame_problem(message)
    if problem is not None:
        raise ValueError(f"{text!r}: {problem}")
    return message


Gate = Callable[[bool, can.Message], bool]


class _Session:
    def __init__(
        self, connection: socket.socket, open_bus: Callable[[], can.BusABC], gate: Gate | None = None
    ) -> None:
        self.connection = connection
        self._open_bus = open_bus
        self._gate = gate
        self.bus: can.BusABC | None = None
        self._send_lock = threading.Lock()
        self._closed = threading.Event()
        self._close_lock = threading.Lock()
        self._finished = False
        self._forwarder: threading.Thread | None = None
        self.thread = threading.Thread(target=self._run, name="sim-socketcand-session", daemon=True)
        self.thread.start()

    def _write(self, text: str) -> None:
        with self._send_lock:
            self.connection.sendall(text.encode("ascii"))

    def _run(self) -> None:
        try:
            self._write("< hi >")
            pending = ""
            while not self._closed.is_set():
                chunk = self.connection.recv(4096)
                if not chunk:
                    break
                if QUICKACK is not None:
                    self.connection.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
                pending += chunk.decode("ascii", errors="replace")
                while ">" in pending:
                    command, pending = pending.split(">", 1)
                    start = command.find("<")
                    if start >= 0:
                        self._command(command[start:] + ">")
                if len(pending) > COMMAND_MAX_CHARS:
                    log.warning("socketcand: %d characters without a '>' dropped", len(pending))
                    pending = ""
        except OSError:
            pass
        finally:
            self.close()

    def _command(self, text: str) -> None:
        words = text.strip("<> ").split()
        if not words:
            return
        if words[0] == "open" and self.bus is None:
            self.bus = self._open_bus()
            self._write("< ok >")
        elif words[0] == "rawmode" and self.bus is not None and self._forwarder is None:
            self._write("< ok >")
            # started under the lock close() takes first: a close in between would join a thread that
            # was made but not yet started ("cannot join thread before it is started")
            with self._close_lock:
                if self._finished:
                    return
                self._forwarder = threading.Thread(
                    target=self._forward, name="sim-socketcand-forward", daemon=True
                )
                self._forwarder.start()
        elif words[0] == "send" and self.bus is not None:
            # a bad send is dropped without a reply: python-can's client reads any "< error … >" as
            # an error frame, and one it cannot parse stays in its receive buffer for good
            try:
                message = parse_send(text)
                if self._gate is None or self._gate(True, message):
                    self.bus.send(message)
            except (ValueError, can.CanError) as exc:
                log.warning("socketcand: send dropped: %s", exc)
        else:
            self._write(f"< error unknown command {words[0]} >")

    def _forward(self) -> None:
        if self._closed.wait(HANDSHAKE_QUIET_S):
            return
        assert self.bus is not None
        try:
            while not self._closed.is_set():
                message = self.bus.recv(timeout=0.05)
                # what arrived together leaves together: one write, one segment for the client to read
                lines: list[str] = []
                while message is not None:
                    problem = None if message.is_error_frame else frame_problem(message)
                    if problem is not None:
                        log.warning("socketcand: frame not forwarded: %s", problem)
                    elif not message.is_error_frame and (self._gate is None or self._gate(False, message)):
                        lines.append(frame_text(message))
                    message = self.bus.recv(timeout=0) if len(lines) < FRAMES_PER_WRITE else None
                if lines:
                    self._write("".join(lines))
        except (OSError, can.CanError):
            self._closed.set()

    def close(self) -> None:
        with self._close_lock:
            if self._finished:
                return
            self._finished = True
        self._closed.set()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        if self._forwarder is not None and self._forwarder is not threading.current_thread():
            self._forwarder.join()
        if self.bus is not None:
            self.bus.shutdown()
            self.bus = None


class SocketcandServer:
    """``gate(from_client, message)`` (optional) decides whether each frame passes, either way."""

    def __init__(self, channel: str, port: int = 0, gate: Gate | None = None) -> None:
        self.channel = channel
        self._gate = gate
        self._sessions: list[_Session] = []
        self._listener = LoopbackListener("socketcand", self._adopt, port)
        self.port = self._listener.port

    def _open_bus(self) -> can.BusABC:
        return can.Bus(interface="virtual", channel=self.channel)

    def _adopt(self, connection: socket.socket) -> None:
        self._sessions = [s for s in self._sessions if s.thread.is_alive()]
        self._sessions.append(_Session(connection, self._open_bus, self._gate))

    def clients(self) -> int:
        """Links open now."""
        return sum(1 for s in list(self._sessions) if s.thread.is_alive())

    def drop_links(self) -> None:
        """Close every client's link, as a socketcand whose CAN interface went bus-off does."""
        for session in list(self._sessions):
            session.close()

    def stop(self) -> None:
        if not self._listener.stop():
            return
        for session in list(self._sessions):
            session.close()
            session.thread.join()
