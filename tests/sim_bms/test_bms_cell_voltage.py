"""Cell over- and under-voltage protection against BMS-01/BMS-02: warnings, current limits and the
contactor trip at ±10 mV of the level within ≤ 1 s of the crossing [E] (Winston LYP 4.0/2.8 V [R])."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.bms import Contactors, ContactorState

OTHERS_V = 3.30


def hold_one_cell(rig: Any, volts: float, seconds: float, index: int = 5) -> None:
    cells = [OTHERS_V] * rig.bms.n_cells
    cells[index] = volts
    rig.inputs.cell_voltages_v = cells
    rig.run(seconds)


def trips_within_1_s(rig: Any, volts: float, fault: str) -> bool:
    """BMS-01/02 check: a cell stepped to ``volts`` trips ``fault`` no later than 1 s after."""
    start = rig.t
    hold_one_cell(rig, volts, 1.5)
    times = rig.events(fault, "set")
    return bool(times) and times[0] - start <= 1.0


@pytest.mark.parametrize(("level", "fault"), [(4.00, "cell_overvoltage"), (2.80, "cell_undervoltage")])
def test_trip_level_within_10_mv(make_rig: Callable, level: float, fault: str) -> None:
    # 10 mV short of the level: nothing for 3 s; 10 mV past it: trip within 1 s
    direction = 1 if fault == "cell_overvoltage" else -1
    quiet = make_rig()
    hold_one_cell(quiet, level - direction * 0.010, 3.0)
    assert quiet.events(fault) == []
    assert trips_within_1_s(make_rig(), level + direction * 0.010, fault)


@pytest.mark.parametrize(
    ("level", "name", "direction"),
    [(3.80, "cell_overvoltage_warning", 1), (2.90, "cell_undervoltage_warning", -1)],
)
def test_warning_level_within_10_mv(make_rig: Callable, level: float, name: str, direction: int) -> None:
    rig = make_rig()
    hold_one_cell(rig, level - direction * 0.010, 2.0)
    assert rig.events(name) == []
    hold_one_cell(rig, level + direction * 0.010, 1.0)
    assert rig.events(name, "warn")
    assert rig.bms.state.warning_active and not rig.bms.state.fault_active
    hold_one_cell(rig, level - direction * 0.030, 0.1)  # back past the 20 mV hysteresis: clears
    assert rig.events(name, "clear")


def test_charge_limit_tapers_to_zero_at_3_90_v(make_rig: Callable, bms_params: dict) -> None:
    # BMS-01: charge current limit 0 at 3.90 V, tapering from the 3.80 V warning
    full = bms_params["max_charge_c_rate"] * bms_params["capacity"]
    rig = make_rig(cell_voltage_noise=0.0)
    for volts, expected in [(3.75, full), (3.85, full / 2), (3.89, full / 10), (3.91, 0.0)]:
        hold_one_cell(rig, volts, 0.01)
        assert rig.bms.state.charge_current_limit_a == pytest.approx(expected, abs=1e-6), volts


def test_discharge_limit_tapers_to_zero_at_2_85_v(make_rig: Callable, bms_params: dict) -> None:
    # BMS-02: discharge limit 0 at 2.85 V, tapering from the 2.90 V warning
    full = bms_params["max_discharge_c_rate"] * bms_params["capacity"]
    rig = make_rig(cell_voltage_noise=0.0)
    for volts, expected in [(2.95, full), (2.875, full / 2), (2.84, 0.0)]:
        hold_one_cell(rig, volts, 0.01)
        assert rig.bms.state.discharge_current_limit_a == pytest.approx(expected, abs=1e-6), volts


def test_ramp_trip_times_are_exact_to_the_crossing(make_rig: Callable, bms_params: dict) -> None:
    # BMS-01 stimulus: one cell 3.5 → 4.1 V at 5 mV/s. With a 10 ms step the events still land
    # on crossing + debounce to well under 1 ms, because the crossing is interpolated.
    rig = make_rig(cell_voltage_noise=0.0)
    debounce, dt, slope = bms_params["cell_voltage_debounce"], 0.01, 0.005
    cells = [OTHERS_V] * 24
    rig.inputs.cell_voltages_v = cells
    for k in range(12_000):
        cells[3] = 3.5 + slope * k * dt  # the value at the start of the step the rig takes next
        rig.step(dt)
    for name, kind, level in [("cell_overvoltage_warning", "warn", 3.80), ("cell_overvoltage", "set", 4.00)]:
        crossing = (level - 3.5) / slope + dt  # the rig's inputs lag its clock by one step
        (t_event,) = rig.events(name, kind)
        assert t_event - crossing == pytest.approx(debounce, abs=1e-4), name
        assert t_event - crossing <= 1.0


def test_overvoltage_opens_closed_contactors(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    start = rig.t
    hold_one_cell(rig, 4.05, 1.2)
    (trip,) = rig.events("cell_overvoltage", "set")
    assert trip - start <= 1.0
    assert rig.bms.state.contactor_state is ContactorState.ERROR
    assert rig.hv.aux_contacts == Contactors()
    assert rig.bms.state.charge_current_limit_a == 0.0 and rig.bms.state.discharge_current_limit_a == 0.0


def test_trip_latches_until_reset_with_the_cell_back(make_rig: Callable) -> None:
    rig = make_rig()
    hold_one_cell(rig, 4.05, 1.0)
    hold_one_cell(rig, 3.50, 1.0)
    assert "cell_overvoltage" in rig.bms.active_faults  # the cell is back, the trip stays
    rig.inputs.reset = True
    rig.run(0.01)
    assert "cell_overvoltage" not in rig.bms.active_faults
    assert rig.bms.state.contactor_state is ContactorState.OPEN


def test_defect_threshold_plus_4_percent_fails_the_trip_check(make_rig: Callable) -> None:
    assert trips_within_1_s(make_rig(), 4.01, "cell_overvoltage")
    assert not trips_within_1_s(make_rig(cell_overvoltage_trip=4.16), 4.01, "cell_overvoltage")


def test_defect_slow_debounce_fails_the_trip_check(make_rig: Callable) -> None:
    assert not trips_within_1_s(make_rig(cell_voltage_debounce=1.4), 2.79, "cell_undervoltage")


def test_cell_count_is_a_parameter(make_rig: Callable) -> None:
    rig = make_rig(n_cells=168)
    hold_one_cell(rig, 4.05, 1.0, index=150)
    assert rig.bms.state.max_cell_index == 150
    assert rig.events("cell_overvoltage", "set")
    rig.inputs.cell_voltages_v = [3.3] * 24
    with pytest.raises(ValueError, match="24 cell voltages for 168 cells"):
        rig.step()


def test_measurement_noise_is_seeded(make_rig: Callable) -> None:
    first, second = make_rig(), make_rig()
    for rig in (first, second):
        hold_one_cell(rig, 3.801, 5.0)
    assert first.bms.events == second.bms.events
    assert first.bms.state.cell_voltages_v == second.bms.state.cell_voltages_v
    assert first.bms.state.cell_voltages_v != [OTHERS_V] * 24
