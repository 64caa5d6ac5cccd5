"""SAE J1939 on the tester side: 29-bit identifiers, Request, TP.BAM reassembly, DM1/DM2/DM3/DM11.

Identifier (J1939-21) [S: reference §5.1]: priority(3) | EDP(1) | DP(1) | PF(8) | PS(8) | SA(8).
PF < 240 is PDU1: PS is the destination address and not part of the PGN; PF ≥ 240 is PDU2: PS
is the group extension, part of the PGN, and the message is broadcast.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import can

from hil.dut.can_link import EXTENDED_ID_MAX, RejectLog, describe
from hil.dut.dtc import SINGLE_FRAME_LENGTH, DmMessage, decode_dm

log = logging.getLogger("hil.dut.j1939")

PGN_REQUEST = 0xEA00  # 59904 [S]
PGN_ACKNOWLEDGMENT = 0xE800  # 59392 [R]
PGN_TP_CM = 0xEC00  # 60416 [S]
PGN_TP_DT = 0xEB00  # 60160 [S]
PGN_DM1 = 0xFECA  # 65226 active DTCs [S]
PGN_DM2 = 0xFECB  # 65227 previously active DTCs [R]
PGN_DM3 = 0xFECC  # 65228 clear previously active DTCs [R]
PGN_DM11 = 0xFED3  # 65235 clear active DTCs [R]

GLOBAL_ADDRESS = 0xFF
TESTER_ADDRESS = 0xF1  # off-board diagnostic tool [R]
TP_CM_BAM = 32  # TP.CM control byte of a broadcast announce message [R]
TP_DT_PAYLOAD = 7  # data bytes per TP.DT packet [R]
BAM_SIZE_MIN = 9  # shorter fits one frame [R]
BAM_SIZE_MAX = 1785  # 255 packets of 7 bytes [R]
TP_T1_S = 0.75  # J1939-21 T1: longest gap between TP.DT packets of one BAM before the receiver gives up [R]
PRIORITY_DEFAULT = 6

_PDU2_MIN_PF = 240
_DM_NAMES = {PGN_DM1: "DM1", PGN_DM2: "DM2"}


@dataclass(frozen=True)
class J1939Id:
    """The fields of a 29-bit J1939 identifier."""

    priority: int
    pgn: int
    source_address: int
    destination_address: int = GLOBAL_ADDRESS


def compose_id(
    priority: int, pgn: int, source_address: int, destination_address: int = GLOBAL_ADDRESS
) -> int:
    """The 29-bit CAN identifier for a PGN sent from ``source_address`` (to ``destination_address``)."""
    if not 0 <= priority <= 7:
        raise ValueError(f"J1939 priority {priority}: must be 0..7")
    if not 0 <= pgn <= 0x3FFFF:
        raise ValueError(f"J1939 PGN 0x{pgn:X}: must fit 18 bits")
    for name, address in (("source", source_address), ("destination", destination_address)):
        if not 0 <= address <= 0xFF:
            raise ValueError(f"J1939 {name} address 0x{address:X}: must be 0..0xFF")
    pf = (pgn >> 8) & 0xFF
    if pf < _PDU2_MIN_PF:
        if pgn & 0xFF:
            raise ValueError(f"J1939 PGN 0x{pgn:X} is PDU1 (PF {pf} < 240): its low byte must be 0")
        ps = destination_address
    else:
        ps = pgn & 0xFF
    return (priority << 26) | ((pgn & 0x3FF00) << 8) | (ps << 8) | source_address


def parse_id(can_id: int) -> J1939Id:
    """The priority, PGN, source and destination of a 29-bit identifier (destination 0xFF for PDU2)."""
    if not 0 <= can_id <= 0x1FFFFFFF:
        raise ValueError(f"CAN id 0x{can_id:X}: not a 29-bit identifier")
    pf = (can_id >> 16) & 0xFF
    ps = (can_id >> 8) & 0xFF
    pgn = (can_id >> 8) & 0x3FF00
    if pf >= _PDU2_MIN_PF:
        pgn |= ps
        destination = GLOBAL_ADDRESS
    else:
        destination = ps
    return J1939Id(
        priority=(can_id >> 26) & 7, pgn=pgn, source_address=can_id & 0xFF, destination_address=destination
    )


def request_payload(pgn: int) -> bytes:
    """Data of a Request (PGN 59904): the requested PGN, 3 bytes little endian."""
    return pgn.to_bytes(3, "little")


@dataclass(frozen=True)
class Acknowledgment:
    """An Acknowledgment message (PGN 59392) [R]: control byte 0 positive, 1 negative, 2 access denied,
    3 cannot respond."""

    control: int
    group_function: int
    address: int
    pgn: int
    source_address: int

    @property
    def positive(self) -> bool:
        return self.control == 0

    @classmethod
    def from_frame(cls, data: bytes, source_address: int) -> Acknowledgment:
        if len(data) != 8:
            raise ValueError(f"Acknowledgment from 0x{source_address:02X}: need 8 bytes, got {data.hex()}")
        return cls(
            control=data[0],
            group_function=data[1],
            address=data[4],
            pgn=int.from_bytes(data[5:8], "little"),
            source_address=source_address,
        )


@dataclass(frozen=True)
class J1939Message:
    """A complete parameter group as received: single frame or reassembled transport.

    ``time_s``: the client's clock when it was complete; ``bus_time_s``: the CAN interface's
    timestamp of its first frame (the frame itself, or the TP.CM announcing it), the time base for
    the period of a broadcast, free of the receiving thread's delays and of the transport's spacing.
    """

    pgn: int
    source_address: int
    destination_address: int
    data: bytes
    time_s: float
    sequence: int
    bus_time_s: float = math.nan


class BamReassembler:
    """Reassembles broadcast (BAM) transport sessions, one per source address (J1939-21) [R].

    An announce whose size or packet count is wrong is refused; a new announce from a source
    abandons its unfinished session; a packet missing, repeated, out of sequence, short or later
    than T1 drops the session: a corrupt transfer is never delivered, truncated or otherwise.
    """

    @dataclass
    class _Session:
        pgn: int
        size: int
        packets: int
        next_sequence: int
        last_time_s: float
        data: bytearray

    def __init__(self) -> None:
        self._sessions: dict[int, BamReassembler._Session] = {}
        self.rejects = RejectLog(log, "J1939 transport")

    @property
    def dropped(self) -> int:
        """Announces refused and sessions dropped so far."""
        return self.rejects.total()

    def _drop(self, source_address: int, kind: str, what: str) -> None:
        self._sessions.pop(source_address, None)
        self.rejects.reject(
            f"{kind} 0x{source_address:02X}", f"BAM from 0x{source_address:02X} dropped: {what}"
        )

    def on_cm(self, source_address: int, data: bytes, now_s: float) -> None:
        if not data or data[0] != TP_CM_BAM:
            return  # RTS/CTS sessions are not reassembled here
        if len(data) != SINGLE_FRAME_LENGTH:
            self._drop(source_address, "announce", f"TP.CM of {len(data)} bytes, not 8: {data.hex()}")
            return
        size, packets = int.from_bytes(data[1:3], "little"), data[3]
        if not BAM_SIZE_MIN <= size <= BAM_SIZE_MAX:
            self._drop(
                source_address, "announce", f"announced {size} bytes, outside {BAM_SIZE_MIN}..{BAM_SIZE_MAX}"
            )
            return
        if packets != -(-size // TP_DT_PAYLOAD):
            self._drop(
                source_address,
                "announce",
                f"announced {packets} packets for {size} bytes (needs {-(-size // TP_DT_PAYLOAD)})",
            )
            return
        if source_address in self._sessions:
            self._drop(source_address, "abandoned", "a new announce came before the last packet")
        self._sessions[source_address] = self._Session(
            pgn=int.from_bytes(data[5:8], "little"),
            size=size,
            packets=packets,
            next_sequence=1,
            last_time_s=now_s,
            data=bytearray(),
        )

    def on_dt(self, source_address: int, data: bytes, now_s: float) -> tuple[int, bytes] | None:
        """Feed one TP.DT; returns (PGN, payload) when the session completes."""
        session = self._sessions.get(source_address)
        if session is None:
            return None
        expected = session.next_sequence
        if len(data) != SINGLE_FRAME_LENGTH:
            self._drop(source_address, "packet", f"TP.DT of {len(data)} bytes, not 8")
            return None
        if data[0] != expected:
            kind = "repeated" if data[0] < expected else "missing"
            self._drop(
                source_address, kind, f"packet {data[0]} where {expected} of {session.packets} was due"
            )
            return None
        if now_s - session.last_time_s > TP_T1_S:
            self._drop(
                source_address,
                "late",
                f"packet {expected} {now_s - session.last_time_s:.3f} s after the last",
            )
            return None
        session.data += data[1:]
        session.next_sequence += 1
        session.last_time_s = now_s
        if session.next_sequence <= session.packets:
            return None
        del self._sessions[source_address]
        return session.pgn, bytes(session.data[: session.size])


class J1939Client(can.Listener):
    """Listens for DM1/DM2/ACK (single frame or BAM), sends Requests; on a shared bus + notifier.

    ``clock`` stamps arrivals (used for the BAM T1 timeout and for callers measuring periods).
    """

    _HISTORY = 2000

    def __init__(
        self,
        bus: can.BusABC,
        notifier: can.Notifier,
        source_address: int = TESTER_ADDRESS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._notifier = notifier
        self.source_address = source_address
        self._clock = clock
        self._bam = BamReassembler()
        self.rejects = RejectLog(log, "J1939")
        self._bam_announced: dict[int, float] = {}  # source -> interface timestamp of its TP.CM
        self._wanted = {PGN_DM1, PGN_DM2, PGN_ACKNOWLEDGMENT}
        self._received: deque[J1939Message] = deque(maxlen=self._HISTORY)
        self._sequence = 0
        self._changed = threading.Condition()
        notifier.add_listener(self)

    # -- receiving -----------------------------------------------------------------------------
    def on_message_received(self, msg: can.Message) -> None:
        if not msg.is_extended_id or msg.is_error_frame or msg.is_remote_frame:
            return
        if not 0 <= msg.arbitration_id <= EXTENDED_ID_MAX:
            self.rejects.reject("identifier", f"rejected {describe(msg)}: not a 29-bit identifier")
            return
        ident = parse_id(msg.arbitration_id)
        now = self._clock()
        data = bytes(msg.data)
        if ident.pgn == PGN_TP_CM and ident.destination_address == GLOBAL_ADDRESS:
            self._bam.on_cm(ident.source_address, data, now)
            self._bam_announced[ident.source_address] = msg.timestamp
        elif ident.pgn == PGN_TP_DT and ident.destination_address == GLOBAL_ADDRESS:
            done = self._bam.on_dt(ident.source_address, data, now)
            if done is not None:
                announced = self._bam_announced.get(ident.source_address, math.nan)
                self._store(done[0], ident.source_address, GLOBAL_ADDRESS, done[1], now, announced)
        else:
            self._store(ident.pgn, ident.source_address, ident.destination_address, data, now, msg.timestamp)

    def _store(
        self, pgn: int, source: int, destination: int, data: bytes, now: float, bus_time_s: float
    ) -> None:
        if pgn not in self._wanted:
            return
        if pgn in _DM_NAMES:
            try:
                decode_dm(data)
            except ValueError as exc:
                # a later good one must still be found by a wait, so the bad one is not kept
                self.rejects.reject(
                    f"{_DM_NAMES[pgn]} 0x{source:02X}",
                    f"{_DM_NAMES[pgn]} from 0x{source:02X} rejected: {exc}",
                )
                return
        with self._changed:
            self._sequence += 1
            self._received.append(
                J1939Message(pgn, source, destination, data, now, self._sequence, bus_time_s)
            )
            self._changed.notify_all()

    def mark(self) -> int:
        """A point in the receive history: ``wait_for(..., after=mark)`` only sees later messages."""
        with self._changed:
            return self._sequence

    def messages(self, pgn: int, source_address: int, after: int = 0) -> list[J1939Message]:
        """Messages of this PGN from this source received after ``after`` (oldest first)."""
        with self._changed:
            return [
                m
                for m in self._received
                if m.pgn == pgn and m.source_address == source_address and m.sequence > after
            ]

    def wait_for(
        self,
        pgn: int,
        source_address: int,
        timeout_s: float,
        after: int | None = None,
        predicate: Callable[[J1939Message], bool] | None = None,
    ) -> J1939Message | None:
        """The first message of ``pgn`` from ``source_address`` after ``after`` (default: now) that
        satisfies ``predicate``, or None after ``timeout_s``."""
        self._wanted.add(pgn)
        start = self.mark() if after is None else after
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for m in self._received:
                    if (
                        m.sequence > start
                        and m.pgn == pgn
                        and m.source_address == source_address
                        and (predicate is None or predicate(m))
                    ):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    # -- sending -------------------------------------------------------------------------------
    def request(self, pgn: int, destination_address: int = GLOBAL_ADDRESS) -> None:
        """Send a Request (PGN 59904) for ``pgn``."""
        self._wanted.add(pgn)
        can_id = compose_id(PRIORITY_DEFAULT, PGN_REQUEST, self.source_address, destination_address)
        self._bus.send(can.Message(arbitration_id=can_id, data=request_payload(pgn), is_extended_id=True))

    # -- diagnostics ---------------------------------------------------------------------------
    def wait_dm1(
        self,
        source_address: int,
        timeout_s: float = 2.5,
        predicate: Callable[[DmMessage], bool] | None = None,
    ) -> DmMessage:
        """The next DM1 from ``source_address`` (satisfying ``predicate``, if given).

        Raises TimeoutError naming the source if none arrives: DM1 is broadcast every 1 s [R].
        """
        found = self.wait_for(
            PGN_DM1,
            source_address,
            timeout_s,
            predicate=None if predicate is None else (lambda m: predicate(decode_dm(m.data))),
        )
        if found is None:
            what = "DM1" if predicate is None else "DM1 matching the condition"
            raise TimeoutError(
                f"no {what} from source address 0x{source_address:02X} within {timeout_s} s"
                + self._rejections(source_address)
            )
        return decode_dm(found.data)

    def _rejections(self, source_address: int) -> str:
        """What was set aside from this source, for a timeout's message ('' if nothing was)."""
        source = f"0x{source_address:02X}"
        notes = [
            f"{count} × {first}"
            for rejects in (self.rejects, self._bam.rejects)
            for kind, count, first in rejects.snapshot()
            if kind.endswith(source)
        ]
        return f"; rejected on the way: {'; '.join(notes)}" if notes else ""

    def request_dm2(self, source_address: int, timeout_s: float = 1.0) -> DmMessage:
        """Request DM2 (previously active DTCs) from ``source_address`` and return it."""
        mark = self.mark()
        self.request(PGN_DM2, source_address)
        found = self.wait_for(PGN_DM2, source_address, timeout_s, after=mark)
        if found is None:
            raise TimeoutError(
                f"no DM2 from source address 0x{source_address:02X} within {timeout_s} s"
                + self._rejections(source_address)
            )
        return decode_dm(found.data)

    def clear_active_dtcs(self, source_address: int, timeout_s: float = 1.0) -> Acknowledgment | None:
        """DM11: request PGN 65235. Returns the ECU's Acknowledgment, or None if it sent none."""
        return self._clear(PGN_DM11, source_address, timeout_s)

    def clear_previously_active_dtcs(
        self, source_address: int, timeout_s: float = 1.0
    ) -> Acknowledgment | None:
        """DM3: request PGN 65228. Returns the ECU's Acknowledgment, or None if it sent none."""
        return self._clear(PGN_DM3, source_address, timeout_s)

    def _clear(self, pgn: int, source_address: int, timeout_s: float) -> Acknowledgment | None:
        mark = self.mark()
        self.request(pgn, source_address)
        found = self.wait_for(
            PGN_ACKNOWLEDGMENT,
            source_address,
            timeout_s,
            after=mark,
            predicate=lambda m: len(m.data) == 8 and int.from_bytes(m.data[5:8], "little") == pgn,
        )
        return None if found is None else Acknowledgment.from_frame(found.data, source_address)

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        self._notifier.remove_listener(self)

    def __enter__(self) -> J1939Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
