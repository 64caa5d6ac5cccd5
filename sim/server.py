"""Loopback TCP servers: one per emulated instrument, line framed, one thread per connection.

Only 127.0.0.1 is ever bound: the simulated bench is reachable from this machine alone.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

log = logging.getLogger("sim.server")

LOOPBACK = "127.0.0.1"
Handler = Callable[[str], bytes | None]


class ConnectionDropped(OSError):
    """Raised by a handler to close the connection it serves, as an instrument that drops it does."""


class LoopbackListener:
    """Accepts TCP connections on 127.0.0.1:``port`` (0 picks a free port) in a thread of its own and
    hands each to ``adopt`` until stopped; a connection that arrives while stopping is closed."""

    def __init__(self, name: str, adopt: Callable[[socket.socket], None], port: int = 0) -> None:
        self._adopt = adopt
        self._socket = socket.create_server((LOOPBACK, port))
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, name=f"sim-{name}-accept", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopping:
                    connection.close()
                    return
                self._adopt(connection)

    def stop(self) -> bool:
        """Stop accepting; False if it was already stopped. No ``adopt`` call follows the return."""
        with self._lock:
            if self._stopping:
                return False
            self._stopping = True
        # shutdown wakes the thread blocked in accept(); close alone does not
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join()
        return True


MAX_LINE = 64 * 1024  # far above any program message a driver sends (a 24-channel list is ~300 bytes)
MAX_CONNECTIONS = 64  # per port: a bench's run, its guardian and a second terminal need a handful


class LineServer:
    """Serves ``handle(line) -> reply | None`` on 127.0.0.1:``port`` (0 picks a free port); each reply
    goes back followed by ``terminator``. Lines end in LF; a CR before it is dropped.

    Hostile bytes cost bounded memory and time: a line longer than ``MAX_LINE`` closes its
    connection, bytes that are not ASCII reach the emulator as backslash escapes, and a connection
    beyond ``MAX_CONNECTIONS`` is closed at once, leaving the connections already served alone."""

    def __init__(self, name: str, handle: Handler, terminator: bytes, port: int = 0) -> None:
        self.name = name
        self._handle = handle
        self._terminator = terminator
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._refusing = False
        self._listener = LoopbackListener(name, self._adopt, port)
        self.port = self._listener.port

    def _adopt(self, connection: socket.socket) -> None:
        with self._lock:
            if len(self._connections) >= MAX_CONNECTIONS:
                if not self._refusing:
                    log.warning("%s: %d connections open; refusing more", self.name, MAX_CONNECTIONS)
                self._refusing = True
                connection.close()
                return
            self._refusing = False
            thread = threading.Thread(
                target=self._serve, args=(connection,), name=f"sim-{self.name}-conn", daemon=True
            )
            self._connections.add(connection)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _serve(self, connection: socket.socket) -> None:
        pending = bytearray()
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                # only the new bytes are searched for the end of a line
                *complete, rest = chunk.split(b"\n")
                if complete:
                    lines = [bytes(pending) + complete[0], *complete[1:]]
                    pending = bytearray(rest)
                else:
                    lines = []
                    pending += rest
                if len(pending) > MAX_LINE or any(len(raw) > MAX_LINE for raw in lines):
                    log.warning("%s: a line longer than %d bytes; connection closed", self.name, MAX_LINE)
                    return
                for raw in lines:
                    text = raw.rstrip(b"\r").decode("ascii", errors="backslashreplace")
                    reply = self._answer(text)
                    if reply is not None:
                        connection.sendall(reply + self._terminator)
        except OSError:
            return
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _answer(self, line: str) -> bytes | None:
        try:
            return self._handle(line)
        except ConnectionDropped:
            raise
        except Exception:
            # a line that breaks an emulator must not take the server down with it
            log.exception("%s: line %r failed", self.name, line[:200])
            return None

    def clients(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._connections)

    def stop(self) -> None:
        if not self._listener.stop():
            return
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        # shutdown wakes the threads blocked in recv(); close alone does not
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()
