"""Bench readiness: each instrument does what it is told before the DUT is trusted to it.

Run first in the nightly regression; a bench that fails here makes every later verdict doubtful.
"""

from __future__ import annotations

import time

import allure
import pytest

from hil.timing import dwell, wait_until

pytestmark = [
    allure.epic("Bench"),
    allure.feature("Readiness"),
    allure.severity(allure.severity_level.BLOCKER),
]

BUS_V = 600.0
LOAD_A = 9.0  # 5.4 kW at 600 V: inside the 63206A-1200-240's 6 kW rating, so it regulates current, not power
DWELL_S = 0.5  # time at the operating point before readings count, as the speed-accuracy test prescribes


def _settle_time(read, target: float, band: float, timeout_s: float) -> float:
    """Seconds until ``read()`` is within ``band`` of ``target``; the timeout is a failure, not a wait."""
    start = time.monotonic()
    wait_until(read, lambda v: abs(v - target) <= band, timeout_s=timeout_s, what=f"{target:g} ± {band:g}")
    return time.monotonic() - start


@pytest.fixture
def dc_bus(drive, supply):
    """The pack voltage on the HV input (contactors open), then the supply stepped to the bus voltage."""
    drive.transition("powered")
    supply.set_voltage(BUS_V)
    return supply


@allure.story("Supply regulates the DC bus")
def test_supply_regulates_the_dc_bus(dc_bus, measure):
    measure("bench.supply.settle_time_s", _settle_time(dc_bus.measure_voltage, BUS_V, 1.0, 5.0))
    measure("bench.supply.dc_voltage_error_v", dc_bus.measure_voltage() - BUS_V)


@allure.story("Electronic load sinks the commanded current")
def test_eload_sinks_the_commanded_current(dc_bus, eload, measure):
    _settle_time(dc_bus.measure_voltage, BUS_V, 1.0, 5.0)
    eload.set_mode("CCH")
    eload.set_current(LOAD_A)
    eload.load_on()
    _settle_time(eload.measure_current, LOAD_A, 0.5, 2.0)
    measure("bench.eload.current_error_a", eload.measure_current() - LOAD_A)


@allure.story("Cell simulator holds every channel")
def test_cell_simulator_holds_every_channel(cellsim, measure):
    targets = [3.25 + 0.005 * i for i in range(cellsim.channels)]
    cellsim.set_current_limit(1.0)
    cellsim.set_cell_voltages(targets)
    cellsim.output_on()
    errors = [v - t for v, t in zip(cellsim.measure_voltages(), targets, strict=True)]
    measure("bench.cellsim.cell_voltage_error_v", max(errors, key=abs))


@allure.story("Dynamometer holds speed")
def test_dyno_holds_speed(dyno, measure):
    dyno.set_speed(1500.0)
    _settle_time(lambda: dyno.read().speed_rpm, 1500.0, 10.0, 10.0)
    dwell(DWELL_S)
    readings = [dyno.read().speed_rpm for _ in range(20)]
    measure("bench.dyno.speed_error_rpm", max((r - 1500.0 for r in readings), key=abs))


@allure.story("Analyzer and supply agree on the DC bus voltage")
def test_analyzer_agrees_with_the_supply_on_the_dc_bus(drive, supply, analyzer, measure):
    # element 4 is wired at the inverter's DC input, behind the BMS contactors: the drive must be up
    drive.transition("drive_ready")
    analyzer.configure("P3W4", 1000, 50)
    supply_v = supply.measure_voltage()
    (analyzer_v,) = analyzer.read_numeric([("UDC", 4)])
    measure("bench.analyzer.dc_voltage_agreement_pct", 100.0 * (analyzer_v - supply_v) / supply_v)
