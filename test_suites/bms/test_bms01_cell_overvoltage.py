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

from hil.scenario import scenario
from test_suites.bms.cell_levels import CellLevelPlan, cell_levels
from test_suites.bms.helpers import WeakCell

pytestmark = [allure.epic("BMS")]

PLAN = CellLevelPlan(
    scenario="BMS-01",
    prefix="bms.cell_overvoltage",
    limit_zero="charge_zero_voltage_v",
    limit_signal="MaxChargeCurrent",
    trip_figure="cell_overvoltage_trip",
    rising=True,
    pack_seed=11,
    pack_soc=0.985,  # the top of the plateau: 3.39 V a cell, 569 V the pack [E]
    # a cell of 4 Ah left of its 200 Ah, 4 mV below the warning band [E]: it reaches 4.0 V on an
    # amp-hour or two where the pack moves by a hundredth of a percent
    weak=WeakCell(channel=6, capacity_ah=4.0, soc=1.0088),
    charger_max_a=30.0,
    # back below the trip's hysteresis; a ceiling only: the e-load's LOAD_POWER_W binds first (9.3 A at 580 V)
    load_max_a=15.0,
)


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
    drive, plant_loop, supply, cellsim, eload, vcu, can_monitor, j1939, product, measure
):
    cell_levels(
        PLAN,
        drive=drive,
        plant_loop=plant_loop,
        supply=supply,
        cellsim=cellsim,
        eload=eload,
        vcu=vcu,
        can_monitor=can_monitor,
        j1939=j1939,
        product=product,
        measure=measure,
    )
