"""Cell temperature protection against BMS-04: warn 50 °C [E], open 60 °C within 1 s
[S: green-lion-racing glr-2024e-bms], charge inhibited below 0 °C [E]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def hold_temps(rig: Any, hottest_c: float, seconds: float, coldest_c: float = 25.0) -> None:
    rig.inputs.cell_temps_c = [25.0, hottest_c, coldest_c, 25.0]
    rig.run(seconds)


def test_warning_at_50_c(make_rig: Callable) -> None:
    rig = make_rig()
    hold_temps(rig, 49.0, 2.0)
    assert rig.events("overtemperature_warning") == []
    hold_temps(rig, 51.0, 1.0)
    assert rig.events("overtemperature_warning", "warn")
    assert rig.events("overtemperature") == []


def test_trip_at_60_c_within_1_s(make_rig: Callable) -> None:
    rig = make_rig()
    hold_temps(rig, 59.0, 3.0)
    assert rig.events("overtemperature") == []
    start = rig.t
    hold_temps(rig, 61.0, 1.5)
    (trip,) = rig.events("overtemperature", "set")
    assert trip - start <= 1.0
    assert rig.bms.state.fault_active


def test_limits_taper_between_warning_and_trip(make_rig: Callable, bms_params: dict) -> None:
    capacity = bms_params["capacity"]
    rig = make_rig()
    hold_temps(rig, 55.0, 0.01)
    assert rig.bms.state.discharge_current_limit_a == pytest.approx(
        bms_params["max_discharge_c_rate"] * capacity / 2
    )
    assert rig.bms.state.charge_current_limit_a == pytest.approx(
        bms_params["max_charge_c_rate"] * capacity / 2
    )


def test_charge_inhibited_below_0_c(make_rig: Callable) -> None:
    # BMS-04: no charging below 0 °C; discharge still allowed
    rig = make_rig()
    hold_temps(rig, 25.0, 1.0, coldest_c=1.0)
    assert not rig.bms.state.charge_inhibit
    assert rig.bms.state.charge_current_limit_a > 0.0
    hold_temps(rig, 25.0, 1.0, coldest_c=-1.0)
    state = rig.bms.state
    assert state.charge_inhibit and state.charge_current_limit_a == 0.0
    assert state.discharge_current_limit_a > 0.0
    assert rig.events("charge_inhibited_cold", "warn")
    hold_temps(rig, 25.0, 1.0, coldest_c=5.0)
    assert not rig.bms.state.charge_inhibit


def test_defect_trip_at_70_c_fails_the_trip_check(make_rig: Callable) -> None:
    rig = make_rig(overtemperature_trip=70.0)
    hold_temps(rig, 61.0, 1.5)
    assert rig.events("overtemperature", "set") == []


def test_sensing_offset_shifts_what_the_bms_reads(make_rig: Callable) -> None:
    rig = make_rig(temperature_offset=3.0)
    hold_temps(rig, 48.0, 1.0)  # reads 51 °C: past the 50 °C warning
    assert rig.bms.state.max_temp_c == pytest.approx(51.0)
    assert rig.events("overtemperature_warning", "warn")
