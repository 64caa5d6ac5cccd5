"""The power analyzer's capture as the waveform checker takes it, and a figure of it for a report.

The driver returns plain arrays with their metadata (drivers never import the framework); the
framework wraps them in a ``Capture`` here. Channels keep the analyzer's trace names (``U1`` ...
``I7``); which element sees what is the bench's wiring (on the drive bench: elements 1-3 the motor
phases, element 4 the inverter's DC input).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from hil.errors import HilError
from hil.waveform import Capture
from hil.waveform.plot import decimate

_PLOT_POINTS = 4000
_observers: list[Callable[[Capture], None]] = []


def observe(observer: Callable[[Capture], None]) -> Callable[[], None]:
    """Tell ``observer`` of every capture taken from now on (a report keeps the test's captures)."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


class CaptureClockUncertain(HilError):
    """The analyzer's record froze too long after the capture was asked for to place it on this
    process's clock: what happened when is unknown, so nothing timed against the capture is judged."""


def acquire(analyzer: Any, traces: Sequence[str], sample_rate_hz: float, samples: int) -> Capture:
    """Capture ``traces`` (``"U4"``, ``"I1"`` ...): the most recent ``samples`` at ``sample_rate_hz``,
    all from the one record the analyzer holds for the call; its times count from the instant that
    record was held (the last sample at 0 on the WT5000, which stamps no time)."""
    return _acquired(analyzer.capture(list(traces), sample_rate_hz, samples))


def acquire_since(
    analyzer: Any, traces: Sequence[str], sample_rate_hz: float, since_s: float, before_s: float = 0.0
) -> Capture:
    """``acquire`` of everything from ``before_s`` ahead of ``since_s`` (``time.monotonic()``) until
    now. An event after ``since_s`` is in the window however long this process took to ask for it
    (a stalled process, a slow reply); a fixed window of the most recent samples loses it."""
    samples = math.ceil((time.monotonic() - since_s + before_s) * sample_rate_hz)
    return acquire(analyzer, traces, sample_rate_hz, max(samples, 1))


def acquire_on_host_clock(
    analyzer: Any, traces: Sequence[str], sample_rate_hz: float, samples: int, tolerance_s: float
) -> tuple[Capture, float]:
    """``acquire``, and the offset that puts the capture's instants on ``time.monotonic()`` (CAN
    frames and the VCU's sends are stamped on it): the record was held between the hold command
    going out and the analyzer's next reply, and the capture's last sample is then. Refused
    (CaptureClockUncertain) when that took longer than ``tolerance_s``: on a loaded machine the
    command waits (10 ms seen with three simulated benches on two cores), and a capture placed that
    far off moves every edge in it."""
    data = analyzer.capture(list(traces), sample_rate_hz, samples)
    took = data.frozen_before_s - data.frozen_after_s
    if not took <= tolerance_s:  # NaN (an analyzer that cannot say) refused too
        raise CaptureClockUncertain(
            f"{getattr(analyzer, 'name', 'analyzer')}: when the capture of {', '.join(traces)} froze is "
            f"known to {took * 1e3:.1f} ms only, not the {tolerance_s * 1e3:g} ms that place it on the "
            "bench's clock"
        )
    cap = _acquired(data)
    return cap, data.frozen_after_s - cap.end_s


def _acquired(data: Any) -> Capture:
    cap = Capture.from_arrays(data.samples, data.sample_rate_hz, data.channels, data.units, data.start_time_s)
    for observer in list(_observers):
        observer(cap)
    return cap


def capture_png(cap: Capture, title: str = "") -> bytes:
    """Every channel of ``cap`` in its own panel, peaks kept by min/max decimation."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 1.8 * len(cap.channels) + 0.6), layout="constrained")
    axes = fig.subplots(len(cap.channels), 1, squeeze=False, sharex=True)[:, 0]
    for ax, name, unit in zip(axes, cap.channels, cap.units, strict=True):
        index, values = decimate(cap.channel(name), 0, cap.n_samples, _PLOT_POINTS)
        ax.plot(cap.time_of(index), values, lw=0.7)
        ax.set_ylabel(f"{name} [{unit}]" if unit else name)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel("time [s]")
    if title:
        fig.suptitle(title, fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
