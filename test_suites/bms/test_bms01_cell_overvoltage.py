"""BMS-01 cell over-voltage, driven by the pack model: a charge at the top of the pack with one weak
cell on the sense board, which runs ahead of the others up its end-of-charge knee through the BMS's
warning (3.80 V), charge-limit-zero (3.90 V) and trip (4.00 V) levels.

The trip's level comes from that slow crossing (5 mV/s: its debounce and the BMS's measurement noise
add a few millivolts); its time from a second, fast one, once the cell is back inside the hysteresis.

The charge comes from a charger the pack model emulates at the pack's terminals: the bench's only
other source, the drive's regeneration, is held to the BMS's charge limit by the drive itself and
stops at 3.90 V; a charger that ignores the limit is the fault the trip is there for.
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

PACK_SEED = 11
PACK_SOC = 0.985  # the top of the plateau: 3.39 V a cell, 569 V the pack [E]
# a cell of 4 Ah left of its 200 Ah, 4 mV below the warning band [E]: it reaches 4.0 V on an amp-hour
# or two where the pack moves by a hundredth of a percent
WEAK = WeakCell(channel=6, capacity_ah=4.0, soc=1.0088)
SLOW_V_PER_S = 0.005  # reference BMS-01: 5 mV/s through each level (0.5 s debounce: 2.5 mV late)
TRIP_V_PER_S = 0.003  # slower through the trip: its level is judged apart from its time
FAST_V_PER_S = 0.04  # between the levels
BAND_BELOW_V, BAND_ABOVE_V = 0.005, 0.008  # the slow band around each level's limits
GIVE_UP_ABOVE_V = 0.025  # past the trip limit by this much without a trip: it does not trip
MAX_CHARGER_A = 30.0
# the trip time, from a second, fast crossing: back below the trip's 20 mV hysteresis through the
# e-load, then across the level at 100 mV/s, where 1 mV of measurement noise is 10 ms [E]
BACK_V_PER_S = 0.05
MAX_LOAD_A = 15.0  # the e-load's 9 kW (LoadRamp) at the pack's 580 V at the top
REARM_BELOW_V = 0.04  # at rest: 20 mV of hysteresis and 20 mV for the drive's draw
ACROSS_V_PER_S = 0.1


@scenario(
    "BMS-01",
    "Cell over-voltage: warning, charge limit to zero, trip",
    feature="Cell protection",
    severity="critical",
    measures=[
        "bms.cell_overvoltage.warning_voltage_v",
        "bms.cell_overvoltage.charge_zero_voltage_v",
        "bms.cell_overvoltage.trip_voltage_v",
        "bms.cell_overvoltage.trip_time_s",
    ],
)
def test_bms01_cell_overvoltage(
    drive, plant_loop, supply, cellsim, eload, vcu, can_monitor, product, measure
):
    names = ("warning_voltage_v", "charge_zero_voltage_v", "trip_voltage_v")
    specs = [measure.spec(f"bms.cell_overvoltage.{name}") for name in names]
    pack = PackModel(seed=PACK_SEED, soc=PACK_SOC, deviations=[WEAK.deviation(PACK_SOC, 200.0)])
    index = WEAK.channel - 1
    bands = [
        (s.low - BAND_BELOW_V, s.high + BAND_ABOVE_V, rate)
        for s, rate in zip(specs, (SLOW_V_PER_S, SLOW_V_PER_S, TRIP_V_PER_S), strict=True)
    ]
    charge = CellRamp(pack, index, BandedRate(bands, FAST_V_PER_S, rising=True), MAX_CHARGER_A)
    back = CellRamp(pack, index, lambda v: BACK_V_PER_S, MAX_LOAD_A)
    on_bench = start_pack(
        drive, plant_loop, supply, cellsim, pack, WEAK, charge=charge, discharge=back, eload=eload
    )
    drive.transition("drive_ready")
    mark = can_monitor.mark()
    charge.running = True  # the charge starts once the contactors are closed
    trip_spec = specs[2]
    events = ramp_through_levels(
        can_monitor,
        on_bench.cell,
        charge,
        rising=True,
        limit_signal="MaxChargeCurrent",
        give_up_v=trip_spec.high + GIVE_UP_ABOVE_V,
        since=mark,
        timeout_s=60.0,
        what="BMS-01: the weak cell charged to the BMS's trip",
    )
    measure("bms.cell_overvoltage.warning_voltage_v", level_at(on_bench.cell, events.warning))
    measure("bms.cell_overvoltage.charge_zero_voltage_v", level_at(on_bench.cell, events.limit_zero))
    if events.trip is None:
        measure("bms.cell_overvoltage.trip_voltage_v", events.furthest_v)
        return
    level = product.value("cell_overvoltage_trip", "V")
    charge.rate = lambda v: ACROSS_V_PER_S
    trip_time = trip_time_from_a_fast_crossing(
        can_monitor,
        vcu,
        on_bench.cell,
        back=back,
        across=charge,
        rearm_v=level - REARM_BELOW_V,
        level_v=level,
        rising=True,
        timeout_s=10.0,
    )
    measure("bms.cell_overvoltage.trip_voltage_v", trip_level(on_bench.cell, events.trip, trip_time))
    measure("bms.cell_overvoltage.trip_time_s", trip_time)
