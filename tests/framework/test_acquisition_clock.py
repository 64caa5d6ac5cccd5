"""A capture placed on this process's clock: by when its record froze, and refused when that is not
known closely enough; a capture that reaches back to an instant on that clock."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hil.acquisition import CaptureClockUncertain, acquire_on_host_clock, acquire_since
from instruments.analyzer import WaveformData

RATE_HZ = 1000.0


class _Analyzer:
    """Answers a capture with the freeze window it is given (the driver's stamps)."""

    name = "analyzer"

    def __init__(self, frozen_after_s: float, frozen_before_s: float) -> None:
        self.window = (frozen_after_s, frozen_before_s)

    def capture(self, traces, sample_rate_hz, samples):
        data = np.zeros((len(traces), samples), dtype=np.float32)
        units = tuple("V" for _ in traces)
        return WaveformData(data, sample_rate_hz, 40.0, tuple(traces), units, *self.window)


def test_the_offset_puts_the_last_sample_where_the_record_froze():
    cap, offset = acquire_on_host_clock(_Analyzer(100.0, 100.002), ["U4"], RATE_HZ, 500, 0.005)
    assert cap.end_s + offset == pytest.approx(100.0)
    assert cap.start_s + offset == pytest.approx(100.0 - (cap.end_s - cap.start_s))


@pytest.mark.parametrize(
    ("window", "shown"),
    [((100.0, 100.030), "30.0 ms"), ((100.0, math.nan), "nan ms"), ((math.nan, math.nan), "nan ms")],
    ids=["late", "unknown-end", "unknown"],
)
def test_a_freeze_not_placed_within_the_tolerance_is_refused(window, shown):
    with pytest.raises(CaptureClockUncertain) as refused:
        acquire_on_host_clock(_Analyzer(*window), ["U4", "I1"], RATE_HZ, 500, 0.005)
    assert str(refused.value) == (
        f"analyzer: when the capture of U4, I1 froze is known to {shown} only, not the 5 ms that place "
        "it on the bench's clock"
    )


@pytest.mark.parametrize("stalled_s", [0.0, 0.3])
def test_a_capture_since_an_instant_reaches_back_to_it_however_late_it_is_asked_for(stalled_s):
    since = time.monotonic() - stalled_s  # the stimulus, then a process that stalled this long
    asked = time.monotonic()
    cap = acquire_since(_Analyzer(0.0, 0.0), ["U4"], RATE_HZ, since, before_s=0.05)
    span = cap.end_s - cap.start_s
    assert asked - since + 0.05 <= span + 1.0 / RATE_HZ
    assert span <= time.monotonic() - since + 0.05
