"""Level crossings: the first crossing of a level, and trip latency between two channels."""

from __future__ import annotations

import bisect
import math

import numpy as np

from hil.waveform import kernels
from hil.waveform.capture import Capture
from hil.waveform.chunks import chunk_len, chunks
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity
from hil.waveform.scope import nonfinite as nonfinite_count
from hil.waveform.scope import numbers, scope

_DIRECTIONS = ("rising", "falling", "either")
# Samples per row of the row-wise reductions a chunk is searched with: long enough that the
# reduction runs about as fast as a flat one, short enough that locating a change in a row is cheap.
_ROW = 4096
# State changes located one by one in a row before the rest of it goes through the exact pass.
_MAX_CHANGES_PER_ROW = 8
# Rows of the first block searched after a state change (a whole 1 MiB float32 chunk): smaller
# first blocks read less twice but measured slower, numpy's per-call cost outweighing the saving.
_FIRST_BLOCK = 64


class _CandidateRows:
    """For each state of a scanner, the rows of a chunk (of _ROW samples, the last may be short)
    holding a sample that can change that state, found by row-wise reductions on first need.

    The first search of a chunk reduces all of it, one reduction where nothing happens. A search
    after a state change reduces blocks of rows, doubling, from the row of the change: the next
    change is usually near, and the rows beyond it are then left to the other state's search.
    """

    def __init__(self, scanner: EdgeScanner, x: np.ndarray) -> None:
        self.scanner = scanner
        self.x = x
        self.n_rows = -(-x.size // _ROW)
        # Per state: rows searched so far end here, and the candidates found in them.
        self._searched: dict[bool, tuple[int, list[int]]] = {}
        self._first_block = self.n_rows

    def next(self, armed: bool, r0: int) -> int | None:
        """First candidate row from r0 on for the state ``armed``."""
        end, rows = self._searched.get(armed, (r0, []))
        if end < r0:  # rows skipped while in the other state need no search for this one
            end, rows = r0, []
        block = self._first_block
        self._first_block = _FIRST_BLOCK
        while True:
            i = bisect.bisect_left(rows, r0)
            if i < len(rows) or end == self.n_rows:
                self._searched[armed] = end, rows
                return rows[i] if i < len(rows) else None
            stop = min(end + block, self.n_rows)
            rows = rows[i:] + self._find(armed, end, stop)
            end, block = stop, 2 * block

    def _find(self, armed: bool, r0: int, r1: int) -> list[int]:
        """Candidate rows among rows r0..r1-1."""
        ufunc = np.maximum if self.scanner.wants_high(armed) else np.minimum
        full = min(r1, self.x.size // _ROW)
        extremes = np.empty(r1 - r0, dtype=self.x.dtype)
        body = self.x[r0 * _ROW : full * _ROW].reshape(-1, _ROW)
        ufunc.reduce(body, axis=1, out=extremes[: body.shape[0]])
        if full < r1:
            extremes[-1] = ufunc.reduce(self.x[full * _ROW :])
        return (r0 + np.flatnonzero(self.scanner.changes(extremes, armed))).tolist()


class EdgeScanner:
    """Crossings of ``level`` in one direction on one channel, fed chunk by chunk.

    A rising crossing is armed by a sample below ``level - hysteresis`` and fires at the next sample
    at or above ``level`` (mirrored for falling), so noise smaller than the hysteresis cannot
    make extra crossings. Each chunk costs one or two row-wise reductions; only the rows where
    the state can change are looked at sample by sample.
    """

    def __init__(self, level: float, hysteresis: float = 0.0, rising: bool = True) -> None:
        self.level = level
        self.rising = rising
        self.arm_level = level - hysteresis if rising else level + hysteresis
        self.armed = False
        # The thresholds as _exact applies them (a sample on both sides of a negative hysteresis
        # changes nothing there).
        pick_fire, pick_arm = (max, min) if rising else (min, max)
        self.fire_at = pick_fire(self.level, self.arm_level)
        self.arm_at = pick_arm(self.level, self.arm_level)

    def scan(self, x: np.ndarray, first_index: int) -> list[int]:
        """Indices of the samples at which crossings fire in the chunk ``x`` (sample 0 is ``first_index``)."""
        events: list[int] = []
        candidates = _CandidateRows(self, x)
        pos = 0
        busy_row, changes = -1, 0
        while pos < x.size:
            # The candidate rows rule out most rows, including the rest of the row of the last
            # change, so a state change costs one comparison of (part of) one row.
            row = candidates.next(self.armed, pos // _ROW)
            if row is None:
                break
            start, stop = max(pos, row * _ROW), min((row + 1) * _ROW, x.size)
            changes = changes + 1 if row == busy_row else 0
            busy_row = row
            if changes >= _MAX_CHANGES_PER_ROW:
                # Many changes in one row (noise without hysteresis): the rest of it in one exact pass.
                fired = (start + self._exact(x[start:stop])).tolist()
                pos = stop
            else:
                hit = self.changes(x[start:stop], self.armed)
                j = int(np.argmax(hit))
                if not hit[j]:  # the row's extreme lies before pos, in samples already handled
                    pos = stop
                    continue
                fired = [start + j] if self.armed else []
                self.armed = not self.armed
                pos = start + j + 1
            events.extend(first_index + i for i in fired)
        return events

    def wants_high(self, armed: bool) -> bool:
        """Whether a high sample (else a low one) changes the state ``armed``: armed, only a firing
        sample can; disarmed, only an arming one."""
        return armed == self.rising

    def changes(self, values: np.ndarray, armed: bool) -> np.ndarray:
        """Which of ``values`` would change the state ``armed``."""
        if self.wants_high(armed):
            return values >= self.fire_at if armed else values > self.arm_at
        return values <= self.fire_at if armed else values < self.arm_at

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


# For each comparison, the reduction whose result tells whether any sample of a chunk compares true.
_SCREENS = {
    "<": (np.minimum, np.less),
    "<=": (np.minimum, np.less_equal),
    ">": (np.maximum, np.greater),
    ">=": (np.maximum, np.greater_equal),
}


def first_where(row: np.ndarray, i0: int, i1: int, op: str, threshold: float) -> tuple[int | None, bool]:
    """First index in [i0, i1) whose sample compares true with ``threshold`` (``op`` one of
    ``< <= > >=``), reading no further than needed, and whether a sample read may not be finite
    (always on the numpy path, whose screen sees only one side's infinity)."""
    x = row[i0:i1]
    if kernels.usable(x):
        found, suspect = kernels.compiled.first(x, threshold, op)
        return (None if found < 0 else i0 + found), suspect
    return _first_where_numpy(row, i0, i1, op, threshold), True


def _first_where_numpy(row: np.ndarray, i0: int, i1: int, op: str, threshold: float) -> int | None:
    reduce, compare = _SCREENS[op]
    for a, b in chunks(i0, i1, chunk_len(row.dtype, single_pass=True)):
        chunk = row[a:b]
        extreme = reduce.reduce(chunk)
        if compare(extreme, threshold) or np.isnan(extreme):  # a NaN hides the chunk's extreme
            hit = compare(chunk, threshold)
            j = int(np.argmax(hit))
            if hit[j]:
                return a + j
    return None


def first_crossing(
    row: np.ndarray, i0: int, i1: int, level: float, direction: str, hysteresis: float = 0.0
) -> tuple[int | None, bool]:
    """Index of the sample at which the first crossing fires, as EdgeScanner fires it: two searches,
    for the sample that arms and then for the one that fires, reading no further than needed; and
    whether a sample read, at least those up to the crossing, may not be finite."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    first = None
    suspect = False
    for rising in (True, False):
        if direction not in ("rising" if rising else "falling", "either"):
            continue
        scanner = EdgeScanner(level, hysteresis, rising)
        end = i1 if first is None else first  # with "either", only a crossing before the other one counts
        armed, seen = first_where(row, i0, end, "<" if rising else ">", scanner.arm_at)
        fired = None
        if armed is not None:
            fired, seen_firing = first_where(row, armed + 1, end, ">=" if rising else "<=", scanner.fire_at)
            seen = seen or seen_firing
        suspect = suspect or seen
        first = fired if fired is not None else first
    return first, suspect


def find_crossing(
    cap: Capture,
    level: float,
    channel: str | list[str] | None = None,
    direction: str = "rising",
    during: tuple[float, float] | None = None,
    hysteresis: float = 0.0,
    within: tuple[float, float] | None = None,
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """First crossing of ``level`` in ``direction``, its instant interpolated between samples.

    Passes when a crossing is found (and, with ``within=(t0, t1)``, when it falls in that window).
    Every sample of the window is looked at, past the crossing too: ``nonfinite`` and ``clip``, see
    hil.waveform.scope.
    """
    window_from, window_to = within or (None, None)
    numbers(
        "find_crossing", level=level, within_from_s=window_from, within_to_s=window_to, hysteresis=hysteresis
    )
    sc = scope("find_crossing", cap, channel, during, clip, nonfinite)

    def search(x: np.ndarray) -> tuple[int | None, bool]:
        idx, suspect = first_crossing(x, 0, x.size, level, direction, hysteresis)
        rest = x.size if idx is None else idx + 1  # the searches read up to the crossing
        return idx, suspect or (rest < x.size and nonfinite_count(x[rest:])[0] > 0)

    outcomes = []
    for (name, unit, row), (idx, suspect) in sc.measure(search):
        refused = sc.refusal(name, row, suspect)
        if refused:
            outcomes.append(refused)
            continue
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
        t = interpolate_time(sc.cap, row, idx, level)
        ok = within is None or within[0] <= t <= within[1]
        detail = f"{direction} crossing of {level:g} {unit} at {t:.9g} s"
        violations = [] if ok else [(t, t)]
        if not ok:
            detail += f", outside {within[0]:g}..{within[1]:g} s"
        outcomes.append(
            ChannelOutcome(name, ok, {"time_s": Quantity(t, "s"), "index": Quantity(idx)}, violations, detail)
        )
    limits = {} if within is None else {"time_s": Limit(within[0], within[1], "s")}
    return sc.result(outcomes, limits, f"find_crossing({level:g}, {direction})")


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
    *,
    clip: bool = False,
    nonfinite: str = "fail",
) -> CheckResult:
    """Time from the event (first crossing on one channel) to the response (next crossing on another).
    ``clip`` and ``nonfinite``: see hil.waveform.scope."""
    numbers(
        "trip_latency",
        event_level=event_level,
        response_level=response_level,
        max_latency_s=max_latency_s,
        hysteresis=hysteresis,
    )
    names = list(dict.fromkeys([event_channel, response_channel]))
    sc = scope("trip_latency", cap, names, during, clip, nonfinite)
    rows = {name: x for name, _, x in sc.rows}
    ev_row, resp_row = rows[event_channel], rows[response_channel]
    name = f"trip_latency({event_channel} -> {response_channel})"
    limits = {"latency_s": Limit(None, max_latency_s, "s")} if max_latency_s is not None else {}
    refused = [r for r in (sc.refusal(n, x) for n, x in rows.items()) if r]
    if refused:
        return sc.result(refused, limits, name)
    ev, _ = first_crossing(ev_row, 0, sc.n, event_level, event_direction, hysteresis)
    if ev is None:
        detail = f"no {event_direction} event crossing of {event_level:g} on {event_channel}"
        outcome = ChannelOutcome(response_channel, False, {"latency_s": Quantity(math.nan, "s")}, [], detail)
        return sc.result([outcome], limits, name)
    t_ev = interpolate_time(sc.cap, ev_row, ev, event_level)
    resp, _ = first_crossing(resp_row, ev - 1, sc.n, response_level, response_direction, hysteresis)
    if resp is None:
        detail = f"event at {t_ev:.9g} s, no {response_direction} response crossing of {response_level:g}"
        values = {"event_s": Quantity(t_ev, "s"), "latency_s": Quantity(math.nan, "s")}
        outcome = ChannelOutcome(response_channel, False, values, [(t_ev, sc.cap.time_of(sc.n - 1))], detail)
        return sc.result([outcome], limits, name)
    t_resp = interpolate_time(sc.cap, resp_row, resp, response_level)
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
    return sc.result([outcome], limits, name)
