"""BMS-06 passive balancing at the top of charge, driven by the pack model: one cell of 2 Ah left
runs ahead of the others on a slow charge (emulated charger) until it is some 50 mV high; the BMS
must start bleeding it once the spread passes 15 mV (above 3.40 V), with 50-200 mA that the cell
simulator's current read-back shows on its channel, and the spread must then fall.
"""

from __future__ import annotations

import contextlib
import math
import time

import allure
import numpy as np

from hil.models import PackModel
from hil.scenario import scenario
from hil.timing import WaitTimeout, dwell, wait_until
from test_suites.bms.helpers import CellRamp, WeakCell, start_pack

pytestmark = [allure.epic("BMS")]

PACK_SEED = 16
PACK_SOC = 0.99  # the top of charge: 3.39 V a cell, below the 3.40 V balancing floor at rest [E]
WEAK = WeakCell(channel=12, capacity_ah=2.0, soc=1.0)  # 7 mV above the rest, up its end-of-charge knee [E]
SLOW_V_PER_S = 0.002  # through the 15 mV start delta: a BMS_Status period is 0.2 mV of spread
FAST_V_PER_S = 0.01  # on to the 50 mV of the reference
HIGH_MV = 50.0  # reference BMS-06: "a cell +50 mV at the top of charge"
MAX_CHARGER_A = 10.0
SPREAD_WINDOW_S = 8.0  # at rest, balancing: the spread's slope over this long
START_TIMEOUT_S = 20.0


@scenario(
    "BMS-06",
    "Passive balancing of a cell 50 mV high at the top of charge",
    feature="Balancing",
    measures=[
        "bms.balancing.start_delta_mv",
        "bms.balancing.bleed_current_a",
        "bms.balancing.spread_fall_mv_per_min",
    ],
)
def test_bms06_balancing(drive, plant_loop, supply, cellsim, can_monitor, measure):
    pack = PackModel(seed=PACK_SEED, soc=PACK_SOC, deviations=[WEAK.deviation(PACK_SOC, 200.0)])
    index = WEAK.channel - 1
    charge = CellRamp(pack, index, lambda v: SLOW_V_PER_S, MAX_CHARGER_A)
    on_bench = start_pack(drive, plant_loop, supply, cellsim, pack, WEAK, charge=charge)
    spread = on_bench.spread
    drive.transition("drive_ready")
    mark = can_monitor.mark()
    charge.running = True

    def started():
        return can_monitor.first("BMS_Status", lambda f: f["BalancingActive"] == 1, mark)

    with contextlib.suppress(WaitTimeout):
        wait_until(started, timeout_s=START_TIMEOUT_S, what="balancing started")
    if started() is None:  # a BMS that never balances: nothing is bled
        charge.stop()
        currents = cellsim.measure_currents()
        measure("bms.balancing.bleed_current_a", currents[index] - float(np.median(currents)))
        return
    start = started()
    wait_until(lambda: spread.t_s[-1], lambda t: t > start.t_s, timeout_s=1.0, what="a spread read-back")
    measure("bms.balancing.start_delta_mv", 1000.0 * spread.at(start.t_s))

    charge.rate = lambda v: FAST_V_PER_S
    wait_until(lambda: spread.last, lambda s: s >= HIGH_MV / 1000.0, timeout_s=10.0, what="50 mV high")
    # the charger now carries just the drive's idle draw: the bleed alone moves the spread
    charge.rate = lambda v: 0.0
    dwell(1.0)  # the charge's I·R gone
    currents = cellsim.measure_currents()
    others = currents[:index] + currents[index + 1 :]
    measure("bms.balancing.bleed_current_a", currents[index] - float(np.median(others)))
    begin = time.monotonic()
    dwell(SPREAD_WINDOW_S)
    t, s = np.array(spread.t_s), np.array(spread.values)
    window = t >= begin
    slope = np.polyfit(t[window], s[window], 1)[0] if window.sum() > 2 else math.nan
    charge.stop()
    measure("bms.balancing.spread_fall_mv_per_min", 60_000.0 * slope)
