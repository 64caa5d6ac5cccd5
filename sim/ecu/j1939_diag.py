"""J1939-73 diagnostics of the simulated firmware: DM1 broadcast, DM2 on request, DM3/DM11 clears.

No CAN here: frames leave through ``send(can_id, data)`` and arrive through ``on_frame``; the
caller runs ``tick()`` often (every few ms). Timing [R]: DM1 every 1 s and at once on a change
(J1939-73); multi-packet data by BAM with ≥ 50 ms between packets (J1939-21), one BAM at a time.
Multi-packet responses to a destination-specific request also go by BAM (no RTS/CTS) [E].
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from sim.ecu import j1939_frames as f
from sim.ecu.dtc_memory import DtcMemory, DtcRecord, Lamp


class J1939DiagServer:
    def __init__(
        self,
        memory: DtcMemory,
        send: Callable[[int, bytes], None],
        source_address: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        dm1_period_s: float = 1.0,
        bam_packet_spacing_s: float = 0.05,
        spn_contiguous: bool = False,
        dm2_reports_active: bool = False,
        clear_acknowledged: bool = True,
        clear_executed: bool = True,
    ) -> None:
        self._memory = memory
        self._send = send
        self.source_address = source_address
        self._clock = clock
        self._dm1_period_s = dm1_period_s
        self._spacing_s = bam_packet_spacing_s
        self._encode_dtc = f.dtc_bytes_contiguous_spn if spn_contiguous else f.dtc_bytes
        # firmware defects: DM2 answering with the active list, clears without their ACK or effect
        self._dm2_reports_active = dm2_reports_active
        self._clear_acknowledged = clear_acknowledged
        self._clear_executed = clear_executed
        self._last_dm1: bytes | None = None
        self._next_dm1_s = float("-inf")
        # each transfer: the PGN it carries, its frames still to send (the announcement first)
        self._transfers: deque[tuple[int, list[tuple[int, bytes]]]] = deque()
        self._next_packet_s = float("-inf")

    # -- payloads ------------------------------------------------------------------------------
    def _lamps(self) -> bytes:
        lit = {r.lamp for r in self._memory.active()}
        return f.lamp_bytes(Lamp.MIL in lit, Lamp.RED_STOP in lit, Lamp.AMBER in lit, Lamp.PROTECT in lit)

    def _payload(self, records: list[DtcRecord]) -> bytes:
        return f.dm_payload(self._lamps(), [self._encode_dtc(r.spn, r.fmi, r.occurrences) for r in records])

    def dm1_payload(self) -> bytes:
        return self._payload(self._memory.active())

    def dm2_payload(self) -> bytes:
        if self._dm2_reports_active:
            return self.dm1_payload()
        return self._payload(self._memory.previously_active())

    # -- sending -------------------------------------------------------------------------------
    def _transmit(self, pgn: int, data: bytes) -> None:
        if len(data) <= 8:
            self._send(f.can_id(f.PRIORITY_DM, pgn, self.source_address), data)
            self._sent(pgn)
            return
        announce, packets = f.bam_frames(pgn, data)
        frames = [(f.can_id(f.PRIORITY_TP, f.PGN_TP_CM, self.source_address), announce)]
        frames += [(f.can_id(f.PRIORITY_TP, f.PGN_TP_DT, self.source_address), p) for p in packets]
        self._transfers.append((pgn, frames))

    def _sent(self, pgn: int) -> None:
        # the next DM1 a period after this one went out, not after it was queued: one queued behind
        # another's BAM leaves up to a packet spacing per packet later, and a period counted from
        # the queue would bring the next one early by as much
        if pgn == f.PGN_DM1:
            self._next_dm1_s = self._clock() + self._dm1_period_s

    def _ack(self, control: int, requester: int, pgn: int) -> None:
        # The acknowledgment goes to the global address, naming the requester in byte 5 [R].
        can_id = f.can_id(f.PRIORITY_DM, f.PGN_ACK, self.source_address, f.GLOBAL)
        self._send(can_id, f.ack_payload(control, requester, pgn))

    # -- receiving -----------------------------------------------------------------------------
    def on_frame(self, can_id: int, data: bytes) -> None:
        pgn, requester, destination = f.split_id(can_id)
        if pgn != f.PGN_REQUEST or destination not in (self.source_address, f.GLOBAL) or len(data) < 3:
            return
        requested = int.from_bytes(data[:3], "little")
        specific = destination == self.source_address
        if requested == f.PGN_DM1:
            self._send_dm1()
        elif requested == f.PGN_DM2:
            self._transmit(f.PGN_DM2, self.dm2_payload())
        elif requested in (f.PGN_DM11, f.PGN_DM3):
            if self._clear_executed and requested == f.PGN_DM11:
                self._memory.clear_active()
            elif self._clear_executed:
                self._memory.clear_previously_active()
            if specific and self._clear_acknowledged:
                self._ack(f.ACK_POSITIVE, requester, requested)
        elif specific:
            self._ack(f.ACK_NEGATIVE, requester, requested)  # J1939-21: NACK an unsupported PGN [R]

    def _send_dm1(self) -> None:
        payload = self.dm1_payload()
        self._last_dm1 = payload
        self._next_dm1_s = math.inf  # until it goes out
        self._transmit(f.PGN_DM1, payload)

    # -- time ----------------------------------------------------------------------------------
    def tick(self) -> None:
        now = self._clock()
        if now >= self._next_dm1_s or self.dm1_payload() != self._last_dm1:
            self._send_dm1()
        if self._transfers and now >= self._next_packet_s:
            pgn, frames = self._transfers[0]
            can_id, data = frames.pop(0)
            self._send(can_id, data)
            if f.split_id(can_id)[0] == f.PGN_TP_CM:
                self._sent(pgn)
            if not frames:
                self._transfers.popleft()
            # the gap runs from the send itself, between the packets of one transfer and before the next
            self._next_packet_s = self._clock() + self._spacing_s
