"""One CAN channel shared by every DUT client: a python-can bus and a notifier that fans frames out.

A real interface (PCAN, Kvaser) usually allows one handle per channel, so the J1939 client and
the UDS (ISO-TP) client listen on the same bus through one ``can.Notifier`` rather than each
opening the channel.

One bad frame must not end the link. python-can's notifier thread dies on the first exception
from a receive or from a listener, and every wait after it times out; this notifier instead
rejects a frame no CAN bus can carry before any listener sees it, keeps one listener's exception
from reaching the others, and goes on after a receive that raises. Each kind of trouble is logged
once with what was wrong and counted in ``CanLink.rejected``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import Counter
from types import TracebackType
from typing import Any

import can

from hil.realtime import raise_thread_priority

log = logging.getLogger("hil.dut.can_link")

# The notifier's reader wakes this often to notice stop(); short so that teardown is quick.
_NOTIFIER_POLL_S = 0.02
STANDARD_ID_MAX = 0x7FF
EXTENDED_ID_MAX = 0x1FFFFFFF
CLASSIC_DATA_MAX = 8
FD_DATA_LENGTHS = frozenset((*range(9), 12, 16, 20, 24, 32, 48, 64))


def frame_problem(msg: can.Message) -> tuple[str, str] | None:
    """(kind, what is wrong) when ``msg`` is a frame no CAN bus carries, None when it can carry it."""
    can_id, length = msg.arbitration_id, len(msg.data)
    if msg.is_extended_id and not 0 <= can_id <= EXTENDED_ID_MAX:
        return "identifier", f"identifier 0x{can_id:X} does not fit 29 bits"
    if not msg.is_extended_id and not 0 <= can_id <= STANDARD_ID_MAX:
        return "identifier", f"11-bit identifier 0x{can_id:X} is beyond 0x{STANDARD_ID_MAX:X}"
    if msg.is_fd and length not in FD_DATA_LENGTHS:
        return "length", f"{length} data bytes is no CAN FD frame length"
    if not msg.is_fd and length > CLASSIC_DATA_MAX:
        return "length", f"{length} data bytes (classic CAN carries at most {CLASSIC_DATA_MAX})"
    return None


def describe(msg: can.Message) -> str:
    data = bytes(msg.data)
    shown = data[:16].hex(" ").upper() + (" …" if len(data) > 16 else "")
    return f"frame 0x{msg.arbitration_id:X} ({len(data)} bytes: {shown})"


class RejectLog:
    """Counts each kind of rejection and logs the first of each kind with its detail."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._log, self._what = logger, what
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def reject(self, kind: str, detail: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            first = self.counts[kind] == 1
            if first:
                self.first[kind] = detail
        if first:
            self._log.warning("%s: %s (later ones of this kind are counted, not logged)", self._what, detail)

    def snapshot(self) -> list[tuple[str, int, str]]:
        """(kind, count, first detail) of each kind so far."""
        with self._lock:
            return [(kind, count, self.first[kind]) for kind, count in self.counts.items()]

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())


class GuardedNotifier(can.Notifier):
    """A ``can.Notifier`` whose reader outlives any frame, listener error or failed receive.

    Overrides the notifier's two hooks of python-can 4 (``_on_message_received``, ``_on_error``) and
    its reader (``_rx_thread``, run at nice -10 where the process may raise it):
    a subclass rather than a reader of our own because ISO-TP's stack insists on a ``can.Notifier``.
    """

    def __init__(self, bus: can.BusABC, timeout: float) -> None:
        self.rejects = RejectLog(log, f"CAN link on {bus.channel_info}")
        super().__init__(bus, [], timeout=timeout)

    def _rx_thread(self, bus: can.BusABC) -> None:
        # what a scenario waits for arrives when it comes, not when the machine's other work allows
        raise_thread_priority(realtime=False)
        super()._rx_thread(bus)

    def _on_message_received(self, msg: can.Message) -> None:
        problem = frame_problem(msg)
        if problem is not None:
            kind, what = problem
            self.rejects.reject(f"frame {kind}", f"rejected {describe(msg)}: {what}")
            return
        for callback in list(self.listeners):
            try:
                callback(msg)
            except Exception as exc:
                # the other listeners still get the frame, and the reader goes on
                name = getattr(callback, "__qualname__", type(callback).__qualname__)
                self.rejects.reject(
                    f"listener {name}", f"{name} could not take {describe(msg)}: {type(exc).__name__}: {exc}"
                )

    def _on_error(self, exc: Exception) -> bool:
        self.rejects.reject(f"receive {type(exc).__name__}", f"receive failed: {type(exc).__name__}: {exc}")
        for listener in list(self.listeners):
            on_error = getattr(listener, "on_error", None)
            if on_error is not None:
                # a listener that keeps what the link says (the monitor) learns why nothing comes
                with contextlib.suppress(Exception):
                    on_error(exc)
        # a receive that fails at once again (a closed socket) would otherwise spin the reader
        time.sleep(self.timeout)
        return True


class _ClosedLinkCheck:
    """python-can's socketcand client takes a link its server closed for "no frame yet" and asks
    again at once, for good: a core spins while every wait times out. This makes the closed link a
    receive error, which the notifier logs once and paces."""

    def __init__(self, bus: can.BusABC) -> None:
        self._socket: socket.socket = bus._SocketCanDaemonBus__socket  # type: ignore[attr-defined]
        self._receive = bus._recv_internal

    def __call__(self, timeout: float | None) -> tuple[can.Message | None, bool]:
        msg, filtered = self._receive(timeout)
        if msg is None and self._closed():
            raise can.CanError(
                "socketcand closed the CAN link (its interface went bus-off, or the server stopped)"
            )
        return msg, filtered

    def _closed(self) -> bool:
        try:
            return self._socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


class CanLink:
    """A bus opened from the bench config's keyword arguments, with a notifier on it."""

    def __init__(self, **bus_kwargs: Any) -> None:
        if "interface" not in bus_kwargs:
            raise ValueError(
                f"CanLink: bus_kwargs need an 'interface' (e.g. 'virtual', 'pcan'); got {bus_kwargs}"
            )
        self.bus: can.BusABC = can.Bus(**bus_kwargs)
        if bus_kwargs["interface"] == "socketcand":
            self.bus._recv_internal = _ClosedLinkCheck(self.bus)  # type: ignore[method-assign]
        self.notifier = GuardedNotifier(self.bus, timeout=_NOTIFIER_POLL_S)

    @property
    def rejected(self) -> Counter[str]:
        """How many frames, listener errors and failed receives the link set aside, by kind."""
        return Counter({kind: count for kind, count, _ in self.notifier.rejects.snapshot()})

    def close(self) -> None:
        self.notifier.stop()
        self.bus.shutdown()

    def __enter__(self) -> CanLink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
