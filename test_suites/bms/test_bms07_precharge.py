"""BMS-07 pre-charge: the link charged through the pre-charge resistor, main closed at 95 % of the
pack, the inrush seen by the analyzer's element 4 at the inverter's DC input."""

from __future__ import annotations

import contextlib
import math
import time

import allure
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hil.acquisition import acquire_since
from hil.scenario import scenario
from hil.timing import WaitTimeout

pytestmark = [allure.epic("BMS")]

RATE_HZ = 20_000.0  # 50 µs: the inrush peak is the first sample after the pre-charge contact closes
BEFORE_S = 0.1  # of the link at rest ahead of the close request
# I4 above this: the pre-charge has begun. Three times the analyzer's noise at rest (±0.15 A seen),
# far below the pre-charge's start (11 A through 50 Ω); its current at the end, 0.55 A at 95 %, sinks
# into the noise when a unit pre-charges further, so the start is the first rise, not the last quiet
# sample before the main contactor closes [E]
PRECHARGE_SEEN_A = 0.5
RISE_HELD_S = 0.001  # and stays above it this long: one noise spike at rest is no start
# the main contactor's close: the link's last few percent through milliohms, tens of amperes, far
# above the pre-charge resistor's 11 A [E]
SPIKE_A = 20.0
PEAK_WINDOW_S = 0.01  # the inrush peak: within 10 ms of the start (τ = 100 ms)
BEFORE_CLOSE_S = 0.002  # the link voltage this long before the main contacts close


@scenario(
    "BMS-07",
    "Pre-charge time, link ratio at main close, inrush",
    feature="Contactors",
    severity="critical",
    measures=[
        "bms.precharge.close_time_s",
        "bms.precharge.link_ratio_at_close_pct",
        "bms.precharge.inrush_peak_a",
    ],
    eol=True,
)
def test_bms07_precharge(drive, analyzer, supply, measure):
    drive.transition("powered")
    analyzer.configure("P3W4", 1000, 50)
    pack_v = supply.measure_voltage()
    # a pre-charge that never completes shows in the capture: no main-contactor close in it
    asked = time.monotonic()
    with contextlib.suppress(WaitTimeout):
        drive.transition("drive_ready")
    cap = acquire_since(analyzer, ["U4", "I4"], RATE_HZ, asked, BEFORE_S)
    u4, i4 = cap.channel("U4").astype(float), cap.channel("I4").astype(float)
    # the main contactor closes onto the last few percent: the largest current of the window, far
    # above anything the pre-charge resistor lets through; the pre-charge began where the current
    # first rose out of the noise and stayed out
    close = int(np.argmax(i4))
    held = round(RISE_HELD_S * RATE_HZ)
    lows = sliding_window_view(i4[:close], held).min(axis=1) if close >= held else np.empty(0)
    rise = np.flatnonzero(lows > PRECHARGE_SEEN_A)
    if rise.size == 0 or i4[close] <= SPIKE_A:
        measure("bms.precharge.inrush_peak_a", float(i4.max()))
        measure("bms.precharge.close_time_s", math.nan)
        measure("bms.precharge.link_ratio_at_close_pct", 100.0 * float(u4.max()) / pack_v)
        return
    start = int(rise[0])
    measure("bms.precharge.inrush_peak_a", float(i4[start : start + round(PEAK_WINDOW_S * RATE_HZ)].max()))
    measure("bms.precharge.close_time_s", (close - start) / RATE_HZ)
    before = u4[close - round(BEFORE_CLOSE_S * RATE_HZ)]
    measure("bms.precharge.link_ratio_at_close_pct", 100.0 * before / pack_v)
