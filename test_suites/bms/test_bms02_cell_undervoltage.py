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

from hil.scenario import scenario
from test_suites.bms.cell_levels import CellLevelPlan, cell_levels
from test_suites.bms.helpers import WeakCell

pytestmark = [allure.epic("BMS")]

PLAN = CellLevelPlan(
    scenario="BMS-02",
    prefix="bms.cell_undervoltage",
    limit_zero="discharge_zero_voltage_v",
    limit_signal="MaxDischargeCurrent",
    trip_figure="cell_undervoltage_trip",
    rising=False,
    pack_seed=12,
    pack_soc=0.05,  # near empty, below the plateau: 2.99 V a cell, 503 V the pack [E]
    # a cell of 1 Ah left of its 200 Ah, its R0 tripled, 30 mV above the warning band [E]: under the
    # discharge its I·R keeps it 4 mV or more below its rest voltage, so it reaches the 2.80 V trip
    # while still above the knee of its own curve (2.80 V at rest is empty)
    weak=WeakCell(channel=9, capacity_ah=1.0, soc=0.038, r0_factor=3.0),
    # back above the trip's hysteresis through the emulated charger; across the level as fast as the
    # e-load goes (10.7 A: ≈ 12 mV/s on the 1 Ah cell, where 1 mV of noise is 80 ms) [E]
    charger_max_a=30.0,
    load_max_a=18.0,  # a ceiling only: the e-load's LOAD_POWER_W binds first (10.7 A at the pack's 503 V)
)


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
