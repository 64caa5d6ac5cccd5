"""Everything the drive system says on CAN, kept with its arrival time: the latest value of each
signal, the frames of a message since a mark, and a text dump of the frames around an event.

One listener on the bench's shared ``CanLink`` notifier, so it sees every frame without taking any
from another client. Frames are kept raw in a ring and decoded when asked: decoding the few hundred
frames a second the drive sends, all of the time, would cost more than the scenarios ever read.
A frame on a DBC message's identifier with the wrong length or identifier type is rejected on
arrival (counted in ``rejects``, kept in the ring for the dump only), so a read never meets it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import can
import cantools

from hil.dut.can_link import RejectLog, describe
from hil.timing import WaitTimeout, wait_until

log = logging.getLogger("hil.dut.monitor")

# ~4 minutes of the drive's traffic (about 400 frames/s): enough for the longest event window
RING_FRAMES = 100_000


class Frame(NamedTuple):
    """One frame as it arrived. The ring keeps each as a plain tuple of these fields: the cyclic
    collector stops tracking a plain tuple of numbers and bytes once it has seen it (not an instance
    of a class, a named tuple's included), so a full ring adds nothing to the collector's full
    passes. Each pass holds every thread of the test process still; over a ring of 100 000 objects
    it took 100-290 ms, and the VCU's TSC1 stream missed the 100 ms the drive allows it."""

    sequence: int
    t_s: float  # time.monotonic() at arrival
    arbitration_id: int
    data: bytes
    rejected: str | None = None  # why it is not a frame of its DBC message, kept for the dump only


@dataclass(frozen=True)
class Decoded:
    """One frame of a DBC message: when it arrived and its signal values (numbers, scaled)."""

    sequence: int
    t_s: float
    values: dict[str, float]

    def __getitem__(self, signal: str) -> float:
        return self.values[signal]


class CanMonitor(can.Listener):
    def __init__(self, database: cantools.database.can.Database, ring_frames: int = RING_FRAMES) -> None:
        self.db = database
        self._by_id = {m.frame_id: m for m in database.messages}
        self._lock = threading.Lock()
        self._ring: deque[tuple] = deque(maxlen=ring_frames)  # Frame's fields (see Frame)
        self._latest: dict[int, tuple] = {}
        self._sequence = 0
        self.rejects = RejectLog(log, "CAN monitor")
        # why the link gave no frame, from its last failed receive; a frame since clears it
        self.link_error: str | None = None

    # --- the listener --------------------------------------------------------------------------
    def on_message_received(self, msg: can.Message) -> None:
        if msg.is_error_frame or msg.is_remote_frame:
            return
        self.link_error = None
        now = time.monotonic()
        data = bytes(msg.data)
        rejected = self._mismatch(msg, data)
        if rejected is not None:
            self.rejects.reject(rejected.split(":")[0], rejected)
        with self._lock:
            self._sequence += 1
            frame = (self._sequence, now, msg.arbitration_id, data, rejected)
            self._ring.append(frame)
            if rejected is None:
                self._latest[msg.arbitration_id] = frame

    def on_error(self, exc: Exception) -> None:
        self.link_error = str(exc)

    def _mismatch(self, msg: can.Message, data: bytes) -> str | None:
        """Why a frame on a DBC message's identifier is not that message (None when it is)."""
        message = self._by_id.get(msg.arbitration_id)
        if message is None:
            return None
        if msg.is_extended_id != message.is_extended_frame:
            width = "29" if msg.is_extended_id else "11"
            return f"{message.name}: a frame with a {width}-bit identifier on its number, {describe(msg)}"
        if len(data) != message.length:
            return (
                f"{message.name}: {len(data)} data bytes where the DBC has {message.length}, {describe(msg)}"
            )
        return None

    # --- reading -------------------------------------------------------------------------------
    def _message(self, name: str) -> cantools.database.can.Message:
        try:
            return self.db.get_message_by_name(name)
        except KeyError:
            known = ", ".join(sorted(m.name for m in self.db.messages))
            raise KeyError(f"no message {name!r} in the drive DBC; known: {known}") from None

    def _decode(self, frame: Frame) -> Decoded:
        message = self._by_id[frame.arbitration_id]
        try:
            values = message.decode(frame.data, decode_choices=False, scaling=True)
        except (ValueError, KeyError, cantools.database.DecodeError) as exc:
            raise ValueError(
                f"{message.name} frame {frame.arbitration_id:08X} [{frame.data.hex(' ')}] "
                f"does not decode: {exc}"
            ) from None
        return Decoded(frame.sequence, frame.t_s, {k: float(v) for k, v in values.items()})

    def mark(self) -> int:
        """The sequence number of the newest frame: ``since=mark()`` means "from now on"."""
        with self._lock:
            return self._sequence

    def latest(self, message: str) -> Decoded | None:
        frame_id = self._message(message).frame_id
        with self._lock:
            frame = self._latest.get(frame_id)
        return None if frame is None else self._decode(Frame._make(frame))

    def value(self, message: str, signal: str) -> float:
        """The signal's latest value; a message never heard is an error, not a zero."""
        latest = self.latest(message)
        if latest is None:
            raise LookupError(f"{message} has not been received on the bench's CAN")
        if signal not in latest.values:
            raise KeyError(f"{message} has no signal {signal!r}; it has {', '.join(latest.values)}")
        return latest.values[signal]

    def _raw_since(self, since: int, frame_id: int | None = None) -> list[Frame]:
        """Raw frames after sequence ``since``, oldest first; walks back from the newest only."""
        found = []
        with self._lock:
            for raw in reversed(self._ring):
                sequence, _, arbitration_id, _, rejected = raw
                if sequence <= since:
                    break
                if rejected is None and (frame_id is None or arbitration_id == frame_id):
                    found.append(raw)
        found.reverse()
        return [Frame._make(raw) for raw in found]

    def frames(self, message: str, since: int = 0) -> list[Decoded]:
        """Every frame of ``message`` after sequence ``since`` still in the ring, oldest first."""
        return [self._decode(f) for f in self._raw_since(since, self._message(message).frame_id)]

    def first(self, message: str, predicate: Callable[[Decoded], bool], since: int = 0) -> Decoded | None:
        for decoded in self.frames(message, since):
            if predicate(decoded):
                return decoded
        return None

    def wait(
        self,
        message: str,
        predicate: Callable[[Decoded], bool],
        *,
        timeout_s: float,
        what: str,
        since: int | None = None,
        poll_s: float = 0.005,
    ) -> Decoded:
        """The first frame of ``message`` after ``since`` (default: now) that satisfies ``predicate``."""
        frame_id = self._message(message).frame_id
        cursor = [self.mark() if since is None else since]

        def next_match() -> Decoded | None:
            # each poll decodes only the frames that arrived since the previous one
            for frame in self._raw_since(cursor[0], frame_id):
                cursor[0] = frame.sequence
                decoded = self._decode(frame)
                if predicate(decoded):
                    return decoded
            return None

        try:
            return wait_until(
                next_match, lambda found: found is not None, timeout_s=timeout_s, what=what, poll_s=poll_s
            )
        except WaitTimeout:
            latest = self.latest(message)
            raise WaitTimeout(what, timeout_s, None if latest is None else latest.values) from None

    # --- evidence ------------------------------------------------------------------------------
    def dump(self, t0_s: float, t1_s: float) -> str:
        """The frames that arrived in [t0_s, t1_s], one per line, decoded where the DBC knows them."""
        with self._lock:
            raw = [f for f in self._ring if t0_s <= f[1] <= t1_s]  # f[1]: Frame.t_s
        lines = []
        for frame in map(Frame._make, raw):
            text = f"{frame.t_s - t0_s:10.4f}  {frame.arbitration_id:08X}  {frame.data.hex(' ').upper():23}"
            message = self._by_id.get(frame.arbitration_id)
            if frame.rejected is not None:
                text += f"  (rejected: {frame.rejected})"
            elif message is not None:
                try:
                    values = self._decode(frame).values
                    text += f"  {message.name} " + " ".join(f"{k}={v:g}" for k, v in values.items())
                except ValueError as exc:
                    text += f"  ({exc})"
            lines.append(text)
        return "\n".join(lines)
