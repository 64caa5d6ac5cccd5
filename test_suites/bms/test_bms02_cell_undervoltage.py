"""BMS-02 cell under-voltage, driven by the pack model: the pack near empty discharged through the
e-load, one weak cell on the sense board running ahead of the others down its end-of-discharge
slope through the BMS's warning (2.90 V), discharge-limit-zero (2.85 V) and trip (2.80 V) levels.

The e-load sits on the pack side of the BMS's contactors: it goes on discharging after they open,
as a parasitic load on a real pack would, until the scenario switches it off. The trip's level comes
from the slow crossing, its time from a second, fast one once the cell is back inside the trip's
hysteresis (charged back through the emulated charger).
"""

from __future__ import annotations

import allure

from hil.models import PackModel
from hil.scenario import scenario
from test_suites.bms.helpers import (
    BandedRate,
    CellRamp,
    WeakCell,
    level_at,
    ramp_through_levels,
    start_pack,
    trip_level,
    trip_time_from_a_fast_crossing,
)

pytestmark = [allure.epic("BMS")]

PACK_SEED = 12
PACK_SOC = 0.05  # near empty, below the plateau: 2.99 V a cell, 503 V the pack [E]
# a cell of 1 Ah left of its 200 Ah, its R0 tripled, 30 mV above the warning band [E]: under the
# discharge its I·R keeps it 4 mV or more below its rest voltage, so it reaches the 2.80 V trip while
# still above the knee of its own curve (2.80 V at rest is empty)
WEAK = WeakCell(channel=9, capacity_ah=1.0, soc=0.038, r0_factor=3.0)
SLOW_V_PER_S = 0.005  # reference BMS-02: 5 mV/s through each level
TRIP_V_PER_S = 0.003  # slower through the trip: its level is judged apart from its time
FAST_V_PER_S = 0.04  # between the levels, as far as the e-load's 10 kW allows
BAND_ABOVE_V, BAND_BELOW_V = 0.005, 0.008  # the slow band around each level's limits
GIVE_UP_BELOW_V = 0.025  # past the trip limit by this much without a trip: it does not trip
MAX_LOAD_A = 18.0  # the e-load's 10 kW at the pack's 500 V, less a margin
# the trip time: back above the trip's 20 mV hysteresis through the emulated charger, then across
# the level as fast as the e-load goes (18 A: ≈ 20 mV/s on the 1 Ah cell, 1 mV of noise is 50 ms) [E]
BACK_V_PER_S = 0.05
MAX_CHARGER_A = 30.0
REARM_ABOVE_V = 0.04  # at rest: 20 mV of hysteresis and 20 mV for the drive's draw
ACROSS_V_PER_S = 0.1


@scenario(
    "BMS-02",
    "Cell under-voltage: warning, discharge limit to zero, trip",
    feature="Cell protection",
    severity="critical",
    measures=[
        "bms.cell_undervoltage.warning_voltage_v",
        "bms.cell_undervoltage.discharge_zero_voltage_v",
        "bms.cell_undervoltage.trip_voltage_v",
        "bms.cell_undervoltage.trip_time_s",
    ],
)
def test_bms02_cell_undervoltage(
    drive, plant_loop, supply, cellsim, eload, vcu, can_monitor, product, measure
):
    names = ("warning_voltage_v", "discharge_zero_voltage_v", "trip_voltage_v")
    specs = [measure.spec(f"bms.cell_undervoltage.{name}") for name in names]
    pack = PackModel(seed=PACK_SEED, soc=PACK_SOC, deviations=[WEAK.deviation(PACK_SOC, 200.0)])
    index = WEAK.channel - 1
    bands = [
        (s.low - BAND_BELOW_V, s.high + BAND_ABOVE_V, rate)
        for s, rate in zip(specs, (SLOW_V_PER_S, SLOW_V_PER_S, TRIP_V_PER_S), strict=True)
    ]
    discharge = CellRamp(pack, index, BandedRate(bands, FAST_V_PER_S, rising=False), MAX_LOAD_A)
    back = CellRamp(pack, index, lambda v: BACK_V_PER_S, MAX_CHARGER_A)
    eload.set_mode("CCH")
    on_bench = start_pack(
        drive, plant_loop, supply, cellsim, pack, WEAK, charge=back, discharge=discharge, eload=eload
    )
    drive.transition("drive_ready")
    mark = can_monitor.mark()
    discharge.running = True
    events = ramp_through_levels(
        can_monitor,
        on_bench.cell,
        discharge,
        rising=False,
        limit_signal="MaxDischargeCurrent",
        give_up_v=specs[2].low - GIVE_UP_BELOW_V,
        since=mark,
        timeout_s=60.0,
        what="BMS-02: the weak cell discharged to the BMS's trip",
    )
    measure("bms.cell_undervoltage.warning_voltage_v", level_at(on_bench.cell, events.warning))
    measure("bms.cell_undervoltage.discharge_zero_voltage_v", level_at(on_bench.cell, events.limit_zero))
    if events.trip is None:
        measure("bms.cell_undervoltage.trip_voltage_v", events.furthest_v)
        return
    level = product.value("cell_undervoltage_trip", "V")
    discharge.rate = lambda v: ACROSS_V_PER_S
    trip_time = trip_time_from_a_fast_crossing(
        can_monitor,
        vcu,
        on_bench.cell,
        back=back,
        across=discharge,
        rearm_v=level + REARM_ABOVE_V,
        level_v=level,
        rising=False,
        timeout_s=10.0,
    )
    measure("bms.cell_undervoltage.trip_voltage_v", trip_level(on_bench.cell, events.trip, trip_time))
    measure("bms.cell_undervoltage.trip_time_s", trip_time)
