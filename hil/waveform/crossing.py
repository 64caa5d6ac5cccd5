"""Level crossings: the first crossing of a level, and trip latency between two channels."""

from __future__ import annotations

import math

import numpy as np

from hil.waveform.capture import Capture
from hil.waveform.chunks import SUB_BLOCK, channel_rows, chunk_len, chunks
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity

_DIRECTIONS = ("rising", "falling", "either")
# Samples per piece when a chunk is searched piecewise: 64 KiB of float32.
_PIECE = 16384


class EdgeScanner:
    """Crossings of ``level`` in one direction on one channel, fed chunk by chunk.

    A rising crossing is armed by a sample below ``level - hysteresis`` and fires at the next sample
    at or above ``level`` (mirrored for falling), so noise smaller than the hysteresis cannot
    make extra crossings. Each chunk costs one reduction per sub-block row; only the rows where
    the state can change are looked at sample by sample.
    """

    def __init__(self, level: float, hysteresis: float = 0.0, rising: bool = True) -> None:
        self.level = level
        self.rising = rising
        self.arm_level = level - hysteresis if rising else level + hysteresis
        self.armed = False

    def scan(self, x: np.ndarray, first_index: int, stop_at_first: bool = False) -> list[int]:
        """Indices of the samples at which crossings fire in the chunk ``x`` (sample 0 is ``first_index``)."""
        events: list[int] = []
        pos = 0
        # The whole chunk is tried at once; once something happens, the rest is searched piece by
        # piece so that each state change costs a piece, not the remainder of the chunk.
        span = x.size
        while pos < x.size:
            rest = x[pos : pos + span]
            # Armed, only a firing sample can change anything; disarmed, only an arming one.
            firing = self.armed
            threshold = self.level if firing else self.arm_level
            if firing == self.rising:
                extreme = np.maximum.reduce(rest)
                hit = extreme >= threshold if firing else extreme > threshold
            else:
                extreme = np.minimum.reduce(rest)
                hit = extreme <= threshold if firing else extreme < threshold
            if not hit:
                if span == x.size:
                    break
                pos += rest.size
                continue
            if span == x.size and x.size > _PIECE:
                span = _PIECE
                continue
            if firing == self.rising:
                j = int(np.argmax(rest >= threshold if firing else rest > threshold))
            else:
                j = int(np.argmax(rest <= threshold if firing else rest < threshold))
            window = rest[j : j + SUB_BLOCK]
            fired = self._exact(window)
            events.extend((first_index + pos + j + fired).tolist())
            if events and stop_at_first:
                break
            pos += j + window.size
        return events

    def _exact(self, x: np.ndarray) -> np.ndarray:
        if self.rising:
            code = (x >= self.level).view(np.int8) - (x < self.arm_level).view(np.int8)
        else:
            code = (x <= self.level).view(np.int8) - (x > self.arm_level).view(np.int8)
        decisive = np.flatnonzero(code)
        if decisive.size == 0:
            return decisive
        states = code[decisive]
        before = np.empty_like(states)
        before[0] = -1 if self.armed else 1
        before[1:] = states[:-1]
        self.armed = bool(states[-1] == -1)
        return decisive[(states == 1) & (before == -1)]


def interpolate_time(cap: Capture, row: np.ndarray, index: int, level: float) -> float:
    """Instant where the line between samples index-1 and index meets ``level``."""
    x0, x1 = float(row[index - 1]), float(row[index])
    frac = 1.0 if x1 == x0 else (level - x0) / (x1 - x0)
    return cap.time_of(index - 1 + frac)


def first_crossing(
    row: np.ndarray, i0: int, i1: int, level: float, direction: str, hysteresis: float = 0.0
) -> int | None:
    """Index of the sample at which the first crossing fires, scanning no further than needed."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    scanners = [
        EdgeScanner(level, hysteresis, rising=d == "rising")
        for d in ("rising", "falling")
        if direction in (d, "either")
    ]
    for a, b in chunks(i0, i1, chunk_len(row.dtype)):
        found = [e for s in scanners for e in s.scan(row[a:b], a, stop_at_first=True)[:1]]
        if found:
            return min(found)
    return None


def find_crossing(
    cap: Capture,
    level: float,
    channel: str | list[str] | None = None,
    direction: str = "rising",
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
    within: tuple[float, float] | None = None,
) -> CheckResult:
    """First crossing of ``level`` in ``direction``, its instant interpolated between samples.

    Passes when a crossing is found (and, with ``within=(t0, t1)``, when it falls in that window).
    """
    i0, i1 = cap.index_range(during)
    outcomes = []
    for name, unit, row in channel_rows(cap, channel):
        idx = first_crossing(row, i0, i1, level, direction, hysteresis)
        if idx is None:
            outcomes.append(
                ChannelOutcome(
                    name,
                    False,
                    {"time_s": Quantity(math.nan, "s")},
                    detail=f"no {direction} crossing of {level:g} {unit}",
                )
            )
            continue
        t = interpolate_time(cap, row, idx, level)
        ok = within is None or within[0] <= t <= within[1]
        detail = f"{direction} crossing of {level:g} {unit} at {t:.9g} s"
        violations = [] if ok else [(t, t)]
        if not ok:
            detail += f", outside {within[0]:g}..{within[1]:g} s"
        outcomes.append(
            ChannelOutcome(name, ok, {"time_s": Quantity(t, "s"), "index": Quantity(idx)}, violations, detail)
        )
    limits = {} if within is None else {"time_s": Limit(within[0], within[1], "s")}
    return CheckResult(f"find_crossing({level:g}, {direction})", outcomes, limits, cap, during)


def trip_latency(
    cap: Capture,
    event_channel: str,
    event_level: float,
    response_channel: str,
    response_level: float,
    max_latency_s: float | None = None,
    event_direction: str = "rising",
    response_direction: str = "falling",
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
) -> CheckResult:
    """Time from the event (first crossing on one channel) to the response (next crossing on another)."""
    i0, i1 = cap.index_range(during)
    ev_row, resp_row = cap.channel(event_channel), cap.channel(response_channel)
    name = f"trip_latency({event_channel} -> {response_channel})"
    limits = {"latency_s": Limit(None, max_latency_s, "s")} if max_latency_s is not None else {}
    ev = first_crossing(ev_row, i0, i1, event_level, event_direction, hysteresis)
    if ev is None:
        detail = f"no {event_direction} event crossing of {event_level:g} on {event_channel}"
        outcome = ChannelOutcome(response_channel, False, {"latency_s": Quantity(math.nan, "s")}, [], detail)
        return CheckResult(name, [outcome], limits, cap, during)
    t_ev = interpolate_time(cap, ev_row, ev, event_level)
    resp = first_crossing(resp_row, ev - 1, i1, response_level, response_direction, hysteresis)
    if resp is None:
        detail = f"event at {t_ev:.9g} s, no {response_direction} response crossing of {response_level:g}"
        values = {"event_s": Quantity(t_ev, "s"), "latency_s": Quantity(math.nan, "s")}
        outcome = ChannelOutcome(response_channel, False, values, [(t_ev, cap.time_of(i1 - 1))], detail)
        return CheckResult(name, [outcome], limits, cap, during)
    t_resp = interpolate_time(cap, resp_row, resp, response_level)
    latency = t_resp - t_ev
    ok = max_latency_s is None or latency <= max_latency_s
    values = {
        "event_s": Quantity(t_ev, "s"),
        "response_s": Quantity(t_resp, "s"),
        "latency_s": Quantity(latency, "s"),
    }
    detail = f"latency {latency * 1e3:.6g} ms (event {t_ev:.9g} s, response {t_resp:.9g} s)"
    if not ok:
        detail += f" > {max_latency_s * 1e3:g} ms"
    violations = [] if ok else [(t_ev + max_latency_s, t_resp)]
    outcome = ChannelOutcome(response_channel, ok, values, violations, detail)
    return CheckResult(name, [outcome], limits, cap, during)
