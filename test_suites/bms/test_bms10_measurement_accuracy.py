"""BMS-10 measurement accuracy: what the BMS reports on CAN against what the bench injects and its
instruments measure, at set points (the cell simulator, the supply and the thermistor emulator are
set, not the pack model: accuracy is judged where the stimulus is known).

Every cell channel is set to the same voltage: the highest and lowest cell the BMS reports
(BMS_CellExtremes) then bound the error of all 24 channels at once.
"""

from __future__ import annotations

import time

import allure

from hil.scenario import scenario
from hil.thermistor import NtcCurve
from hil.timing import dwell
from test_suites.bms.helpers import DRIVE_OUTPUT_RPM, hold_dc_current

pytestmark = [allure.epic("BMS")]

CELL_POINTS_V = (2.5, 3.0, 3.3, 3.65, 4.0)  # reference BMS-10: cell voltages 2.5-4.0 V
TEMPERATURE_POINTS_C = (-20.0, 0.0, 25.0, 45.0, 55.0)  # reference: -20...60 °C, short of the 60 °C trip
PACK_POINTS_V = (554.4, 480.0)  # the bench's resting pack, and lower (above the 400 V pre-charge minimum)
CURRENT_POINTS_A = (
    80.0,
    -60.0,
)  # motoring and regenerating, inside the supply's 54 kW and the 100 A charge limit
FRESH_S = 0.05  # a frame arriving this long after a set point was computed from it
EXTREMES_TIMEOUT_S = 1.5  # BMS_CellExtremes every 500 ms
SUPPLY_SETTLED_V = 0.5
CURRENT_FRAMES = 5  # BMS_Status frames averaged per current point (100 ms each)
LOAD_TOLERANCE_A = 3.0


def _fresh(can_monitor, message: str, after_s: float, what: str):
    return can_monitor.wait(
        message, lambda f: f.t_s > after_s + FRESH_S, timeout_s=EXTREMES_TIMEOUT_S, what=what
    )


def _worst(errors: list[float]) -> float:
    return max(errors, key=abs)


@scenario(
    "BMS-10a",
    "Measurement accuracy: cell voltages, pack voltage, cell temperatures",
    feature="Measurement",
    severity="critical",
    measures=[
        "bms.accuracy.cell_voltage_error_mv",
        "bms.accuracy.pack_voltage_error_pct_fs",
        "bms.accuracy.temperature_error_c",
    ],
    eol=True,
)
def test_bms10a_voltage_and_temperature_accuracy(
    drive, cellsim, supply, tempsim, can_monitor, product, measure
):
    drive.transition("powered")
    errors = []
    for volts in CELL_POINTS_V:
        cellsim.set_cell_voltages([volts] * cellsim.channels)
        injected = cellsim.measure_voltages()
        frame = _fresh(can_monitor, "BMS_CellExtremes", time.monotonic(), f"cell extremes at {volts} V")
        errors += [frame["MaxCellVoltage"] - max(injected), frame["MinCellVoltage"] - min(injected)]
    measure("bms.accuracy.cell_voltage_error_mv", 1000.0 * _worst(errors))

    full_scale = product.value("pack_voltage_full_scale", "V")
    errors = []
    for volts in PACK_POINTS_V:
        supply.set_voltage(volts)
        dwell(SUPPLY_SETTLED_V)
        measured = supply.measure_voltage()
        frame = _fresh(can_monitor, "BMS_Status", time.monotonic(), f"pack voltage at {volts} V")
        errors.append(100.0 * (frame["PackVoltage"] - measured) / full_scale)
    measure("bms.accuracy.pack_voltage_error_pct_fs", _worst(errors))

    ntc = NtcCurve.of_product(product)
    errors = []
    for celsius in TEMPERATURE_POINTS_C:
        tempsim.set_resistance(1, ntc.resistance_ohm(celsius))
        injected = ntc.temperature_c(tempsim.resistance(1))
        frame = _fresh(can_monitor, "BMS_CellExtremes", time.monotonic(), f"cell temperature at {celsius} °C")
        # one NTC line on the emulator, the others at 25 °C: it is the hottest or the coldest
        reported = frame["MaxCellTemperature"] if injected >= 25.0 else frame["MinCellTemperature"]
        errors.append(reported - injected)
    measure("bms.accuracy.temperature_error_c", _worst(errors))


@scenario(
    "BMS-10b",
    "Measurement accuracy: pack current, motoring and regenerating",
    feature="Measurement",
    severity="critical",
    measures=["bms.accuracy.current_error_pct_fs"],
)
def test_bms10b_current_accuracy(drive, vcu, analyzer, can_monitor, product, measure):
    drive.transition("turning", output_rpm=DRIVE_OUTPUT_RPM)
    analyzer.configure("P3W4", 1000, 50)
    full_scale = product.value("pack_current_full_scale", "A")
    errors = []
    for amps in CURRENT_POINTS_A:
        hold_dc_current(vcu, analyzer, amps, tolerance_a=LOAD_TOLERANCE_A)
        mark = can_monitor.mark()
        reference = []
        while len(can_monitor.frames("BMS_Status", since=mark)) < CURRENT_FRAMES:
            (current,) = analyzer.read_numeric([("IDC", 4)])
            reference.append(current)
            dwell(0.05)
        reported = [f["PackCurrent"] for f in can_monitor.frames("BMS_Status", since=mark)]
        bms_a, analyzer_a = sum(reported) / len(reported), sum(reference) / len(reference)
        errors.append(100.0 * (bms_a - analyzer_a) / full_scale)
    vcu.request_torque(0.0)
    measure("bms.accuracy.current_error_pct_fs", _worst(errors))
