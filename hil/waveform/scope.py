"""What a check reads, settled in one place: the channels asked for, the window of samples, and what
becomes of samples that are not finite.

A check that certifies units must fail closed. The window must hold samples and lie in the capture
(``Capture.window``), the channels must exist and be named once, and a NaN or infinite sample in the
window fails the channel with its count and first instant, unless the caller asks for
``nonfinite="ignore"``: each such sample then takes the value of the last finite sample before it
(the first finite one after, at the window's start), and the outcome says how many were ignored.

Looking for such samples in a pass of their own would read every sample twice, so the streaming checks
report a sign of one from their own pass (a sum or an extreme that is not finite), and only then are
they counted (``Scope.refusal``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from hil.waveform import kernels
from hil.waveform.capture import Capture
from hil.waveform.chunks import chunk_len, chunks
from hil.waveform.parallel import map_channels
from hil.waveform.result import ChannelOutcome, CheckResult, Limit, Quantity

R = TypeVar("R")
Row = tuple[str, str, np.ndarray]
POLICIES = ("fail", "ignore")


def nonfinite(x: np.ndarray) -> tuple[int, int]:
    """How many samples of ``x`` are NaN or infinite, and the index of the first (-1 if none)."""
    if kernels.usable(x):
        return kernels.compiled.nonfinite(x)
    count, first = 0, -1
    for a, b in chunks(0, x.size, chunk_len(x.dtype, single_pass=True)):
        bad = ~np.isfinite(x[a:b])
        n = int(np.count_nonzero(bad))
        if n and first < 0:
            first = a + int(np.argmax(bad))
        count += n
    return count, first


def held(x: np.ndarray) -> np.ndarray:
    """A copy of ``x`` in which each sample that is not finite takes the last finite value before it."""
    finite = np.isfinite(x)
    last = np.where(finite, np.arange(x.size), 0)
    np.maximum.accumulate(last, out=last)
    last[: int(np.argmax(finite))] = np.argmax(finite)  # before the first finite sample: that one
    return x[last]


@dataclass
class Scope:
    """The window of a check as a capture of its own (sample 0 is the window's first), its channels as
    rows of that capture, and the non-finite policy; ``result`` builds the check's result."""

    check: str
    cap: Capture  # the window, on the capture's time axis
    rows: list[Row]
    policy: str
    source: Capture
    during: tuple[float, float] | None
    offset: int  # index of the window's first sample in the source capture
    ignored: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.cap.n_samples

    def measure(self, fn: Callable[[np.ndarray], R]) -> list[tuple[Row, R]]:
        """(row, fn(samples)) for each channel, side by side where the window is large."""
        found = map_channels(lambda r: fn(r[2]), self.rows, self.n * self.cap.samples.itemsize)
        return list(zip(self.rows, found, strict=True))

    def refusal(self, name: str, x: np.ndarray, suspect: bool = True) -> ChannelOutcome | None:
        """The failing outcome of a channel whose samples ``x`` are not all finite, or None; ``suspect``
        False (the check's own pass saw no sign of one) spares the count."""
        count, first = nonfinite(x) if suspect else (0, -1)
        if count == 0:
            return None
        t = float(self.cap.time_of(first))
        values = {"n_nonfinite": Quantity(count), "first_nonfinite_s": Quantity(t, "s")}
        if count == x.size:
            detail = f"no finite sample: all {count} in the window are NaN or infinite"
        else:
            detail = (
                f"{count} non-finite samples (NaN or inf) of {x.size}, first at {t:.9g} s: not judged "
                "(nonfinite='ignore' holds the last finite value instead)"
            )
        return ChannelOutcome(name, False, values, [(t, t)], detail)

    def result(self, outcomes: list[ChannelOutcome], limits: dict[str, Limit], name: str = "") -> CheckResult:
        """The check's result; each outcome says how many samples it ignored, those of channels with no
        outcome of their own (the phases of unbalance, the event of trip_latency) on the first."""
        by_channel = {o.channel: o for o in outcomes}
        for channel, (count, first) in self.ignored.items():
            o = by_channel.get(channel, outcomes[0])
            t = float(self.cap.time_of(first))
            before = o.values.get("n_nonfinite_ignored", Quantity(0)).value
            o.values["n_nonfinite_ignored"] = Quantity(before + count)
            o.detail += f"; {channel}: {count} non-finite samples ignored (first at {t:.9g} s)"
        return CheckResult(name or self.check, outcomes, limits, self.source, self.during)


def scope(
    check: str,
    cap: Capture,
    channel: str | Sequence[str] | None,
    during: tuple[float, float] | None,
    clip: bool = False,
    nonfinite_policy: str = "fail",
) -> Scope:
    """The validated scope of one check (see the module's docstring); errors name the check."""
    if nonfinite_policy not in POLICIES:
        raise ValueError(f"{check}: nonfinite must be one of {POLICIES}, got {nonfinite_policy!r}")
    try:
        names = cap.names(channel)
        i0, i1 = cap.window(during, clip)
    except (ValueError, KeyError) as e:
        raise type(e)(f"{check}: {e.args[0]}") from None
    win = cap.slice(i0, i1)
    rows = [(n, win.units[win.channel_index(n)], win.channel(n)) for n in names]
    sc = Scope(check, win, rows, nonfinite_policy, cap, during, i0)
    if nonfinite_policy == "ignore":
        for k, (name, unit, x) in enumerate(rows):
            count, first = nonfinite(x)
            if 0 < count < x.size:
                sc.ignored[name] = (count, first)
                rows[k] = (name, unit, held(x))
    return sc


def numbers(check: str, **values: float | None) -> None:
    """Refuses a NaN limit or level, naming it: NaN compares false with everything, so a check that
    looks for samples beyond it finds none and passes. None leaves a limit open."""
    for name, value in values.items():
        if value is not None and math.isnan(value):
            raise ValueError(f"{check}: {name} is NaN; give a number (None leaves a limit open)")


def tolerances(check: str, **values: float | None) -> None:
    """Refuses a tolerance, band or time allowance that is NaN or negative, naming it."""
    for name, value in values.items():
        if value is not None and not value >= 0:
            raise ValueError(f"{check}: {name} is a tolerance, zero or more: got {value}")


def instant(sc: Scope, t_s: float | None, name: str) -> int:
    """Window index of the instant ``t_s`` (default the window's start), which must lie in the window."""
    if t_s is None:
        return 0
    if not math.isfinite(t_s):
        raise ValueError(f"{sc.check}: {name}={t_s} is not a finite instant")
    try:
        return sc.cap.index_at(t_s, name, 0, sc.n)
    except ValueError as e:
        raise ValueError(f"{sc.check}: {e.args[0]}") from None
