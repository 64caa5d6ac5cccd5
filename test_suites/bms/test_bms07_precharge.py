"""BMS-07 pre-charge: the link charged through the pre-charge resistor, main closed at 95 % of the
pack, the inrush seen by the analyzer's element 4 at the inverter's DC input."""

from __future__ import annotations

import contextlib
import math

import allure
import numpy as np

from hil.acquisition import acquire
from hil.scenario import scenario
from hil.timing import WaitTimeout

pytestmark = [allure.epic("BMS")]

RATE_HZ = 20_000.0  # 50 µs: the inrush peak is the first sample after the pre-charge contact closes
WINDOW_S = 1.5  # the most recent 1.5 s: the pre-charge (≈ 0.35 s) ends just before the drive reports ready
STARTED_A = 1.0  # I4 above this: the pre-charge contactor has closed [E: the link bleed is 12 mA]
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
    with contextlib.suppress(WaitTimeout):
        drive.transition("drive_ready")
    cap = acquire(analyzer, ["U4", "I4"], RATE_HZ, round(RATE_HZ * WINDOW_S))
    u4, i4 = cap.channel("U4").astype(float), cap.channel("I4").astype(float)
    started = np.flatnonzero(i4 > STARTED_A)
    if started.size == 0:
        measure("bms.precharge.inrush_peak_a", float(i4.max()))
        measure("bms.precharge.close_time_s", math.nan)
        measure("bms.precharge.link_ratio_at_close_pct", 100.0 * float(u4.max()) / pack_v)
        return
    start = int(started[0])
    peak = float(i4[start : start + round(PEAK_WINDOW_S * RATE_HZ)].max())
    measure("bms.precharge.inrush_peak_a", peak)
    # the main contactor closes onto the last few percent: the current spikes above anything the
    # pre-charge resistor lets through
    spikes = np.flatnonzero(i4[start:] > 1.5 * peak)
    if spikes.size == 0:
        measure("bms.precharge.close_time_s", math.nan)
        measure("bms.precharge.link_ratio_at_close_pct", 100.0 * float(u4.max()) / pack_v)
        return
    close = start + int(spikes[0])
    measure("bms.precharge.close_time_s", (close - start) / RATE_HZ)
    measure(
        "bms.precharge.link_ratio_at_close_pct", 100.0 * u4[close - round(BEFORE_CLOSE_S * RATE_HZ)] / pack_v
    )
