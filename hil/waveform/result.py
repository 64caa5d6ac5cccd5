"""What a check returns: a verdict that is truthy when it passes, with the evidence behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hil.waveform.capture import Capture

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Interval = tuple[float, float]


@dataclass(frozen=True)
class Quantity:
    value: Any
    unit: str = ""

    def __str__(self) -> str:
        return _fmt(self.value, self.unit)


@dataclass(frozen=True)
class Limit:
    """A low/high pair in a unit; either side may be open (None)."""

    low: float | None = None
    high: float | None = None
    unit: str = ""

    def holds(self, value: float) -> bool:
        if not np.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"[{_fmt(self.low)}, {_fmt(self.high)}] {self.unit}".rstrip()
        if self.low is not None:
            return f">= {_fmt(self.low, self.unit)}"
        if self.high is not None:
            return f"<= {_fmt(self.high, self.unit)}"
        return "unbounded"


@dataclass(frozen=True)
class Trace:
    """A curve to draw: derived series (per-cycle RMS, per-window THD) or a limit line."""

    time_s: np.ndarray
    values: np.ndarray
    label: str
    unit: str = ""


@dataclass
class ChannelOutcome:
    """The verdict for one channel, with its measured values and violating time intervals."""

    channel: str
    passed: bool
    values: dict[str, Quantity]
    violations: list[Interval] = field(default_factory=list)
    detail: str = ""
    series: Trace | None = None
    lower: Trace | None = None
    upper: Trace | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in self.values:
            raise KeyError(f"{self.channel}: no {name!r} (it has {sorted(self.values)}): {self.detail}")
        return self.values[name].value


@dataclass
class CheckResult:
    """Truthy when every channel passed; ``repr`` is the one-line message so ``assert result`` reads well."""

    name: str
    outcomes: list[ChannelOutcome]
    limits: dict[str, Limit]
    capture: Capture | None = None
    window: Interval | None = None
    passed: bool = field(init=False)
    message: str = field(init=False)

    def __post_init__(self) -> None:
        self.passed = all(o.passed for o in self.outcomes)
        self.message = self._message()
        for observer in list(_observers):
            observer(self)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__

    def __getitem__(self, channel: str) -> ChannelOutcome:
        for o in self.outcomes:
            if o.channel == channel:
                return o
        raise KeyError(f"{self.name}: no channel {channel!r}; checked {[o.channel for o in self.outcomes]}")

    def value(self, name: str, channel: str | None = None) -> Any:
        """A measured value; with one channel checked, the channel may be omitted."""
        outcome = self.outcomes[0] if channel is None else self[channel]
        return outcome[name]

    @property
    def violations(self) -> dict[str, list[Interval]]:
        return {o.channel: o.violations for o in self.outcomes if o.violations}

    def _message(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        window = "" if self.window is None else f" during {_fmt(self.window[0])}..{_fmt(self.window[1])} s"
        shown = [o for o in self.outcomes if not o.passed] or self.outcomes
        parts = []
        for o in shown[:3]:
            first = f", first violation at {_fmt(o.violations[0][0])} s" if o.violations else ""
            parts.append(f"{o.channel}: {o.detail}{first}")
        more = f"; and {len(shown) - 3} more channels" if len(shown) > 3 else ""
        return f"{verdict} {self.name}{window}: {'; '.join(parts)}{more}"

    def plot(self, max_points: int = 4000) -> Figure:
        """A figure of the checked channels with limits drawn and violations shaded."""
        from hil.waveform.plot import plot_result

        return plot_result(self, max_points=max_points)


_observers: list[Callable[[CheckResult], None]] = []


def add_observer(callback: Callable[[CheckResult], None]) -> None:
    """Call ``callback`` with every result made from now on (the pytest plugin collects them this way)."""
    _observers.append(callback)


def remove_observer(callback: Callable[[CheckResult], None]) -> None:
    _observers.remove(callback)


def _fmt(value: Any, unit: str = "") -> str:
    if isinstance(value, np.ndarray):
        if value.size > 6:
            text = f"[{value.size} values, min {_fmt(np.nanmin(value))}, max {_fmt(np.nanmax(value))}]"
        else:
            text = "[" + ", ".join(_fmt(v) for v in value.ravel()) + "]"
    elif isinstance(value, float | np.floating):
        text = f"{float(value):.6g}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text
