"""The road-load model against the longitudinal equation of motion, worked out here by hand."""

from __future__ import annotations

import math

import pytest

from hil.models.figures import TAGS, figures
from hil.models.vehicle import VehicleModel, VehicleParameters

# the model's figures, restated so the equations below are checked, not the model against itself
M, DELTA, FR, G, RHO, CDA = 18_000.0, 1.04, 0.008, 9.80665, 1.2, 4.9
R_WHEEL, I_FD, ETA = 0.48, 10.9, 0.97


def test_figures_carry_source_tags_and_match_the_restated_ones():
    p = VehicleParameters()
    assert (p.mass_kg, p.rotating_mass_factor, p.rolling_resistance) == (M, DELTA, FR)
    assert (p.air_density_kg_per_m3, p.drag_area_m2) == (RHO, CDA)
    assert (p.wheel_radius_m, p.final_drive_ratio, p.final_drive_efficiency) == (R_WHEEL, I_FD, ETA)
    for figure in figures(p):
        assert figure.tag in TAGS and figure.source, figure


def test_coast_down_deceleration_is_road_load_over_effective_mass():
    v0 = 50 / 3.6
    bus = VehicleModel(speed_kmh=50.0)
    bus.step(0.0, 1e-3)
    expected = -(0.5 * RHO * CDA * v0**2 + FR * M * G) / (M * DELTA)
    assert bus.acceleration_mps2 == pytest.approx(expected, rel=1e-9)


def test_coast_down_time_matches_the_closed_form():
    # dv/dt = -(a + b v²) stops after atan(v0·√(b/a)) / √(a·b)
    a, b = FR * G / DELTA, 0.5 * RHO * CDA / (M * DELTA)
    v0 = 60 / 3.6
    expected_s = math.atan(v0 * math.sqrt(b / a)) / math.sqrt(a * b)
    bus = VehicleModel(speed_kmh=60.0)
    t = 0.0
    while bus.speed_mps > 0.0:
        bus.step(0.0, 0.01)
        t += 0.01
    assert t == pytest.approx(expected_s, abs=0.05)
    assert expected_s > 100.0, "an 18 t bus coasts for minutes from 60 km/h"


@pytest.mark.parametrize("grade", [0.0, 6.0, -3.0])
def test_steady_speed_on_a_grade_needs_the_analytic_torque(grade):
    v = 30 / 3.6
    theta = math.atan(grade / 100)
    force = FR * M * G * math.cos(theta) + M * G * math.sin(theta) + 0.5 * RHO * CDA * v**2
    torque = force * R_WHEEL / I_FD / (ETA if force > 0 else 1 / ETA)
    bus = VehicleModel(speed_kmh=30.0, grade_percent=grade)
    assert bus.road_load_torque_nm == pytest.approx(torque, rel=1e-12)
    for _ in range(1000):
        bus.step(torque, 0.01)
    assert bus.speed_kmh == pytest.approx(30.0, abs=1e-9)
    assert bus.distance_m == pytest.approx(v * 10.0, rel=1e-9)
    weaker = VehicleModel(speed_kmh=30.0, grade_percent=grade)
    for _ in range(1000):
        weaker.step(torque - 20.0, 0.01)
    assert weaker.speed_kmh < 29.5


def test_grade_changed_while_running_changes_the_deceleration():
    bus = VehicleModel(speed_kmh=40.0)
    bus.step(0.0, 0.01)
    flat = bus.acceleration_mps2
    bus.grade_percent = 5.0
    bus.step(0.0, 0.01)
    assert bus.acceleration_mps2 - flat == pytest.approx(-G * math.sin(math.atan(0.05)) / DELTA, rel=1e-3)


def test_speed_never_goes_below_zero_with_brakes_and_negative_torque():
    bus = VehicleModel(speed_kmh=20.0)
    bus.brake_force_n = 1e6  # more than the brakes can give: held at their limit
    speeds = []
    for _ in range(500):
        bus.step(-800.0, 0.01)
        speeds.append(bus.speed_mps)
    assert min(speeds) >= 0.0
    assert bus.speed_mps == 0.0
    decel = (20 / 3.6) / (next(i for i, s in enumerate(speeds) if s == 0.0) * 0.01)
    assert decel < 5.0 + 2.0, "the brakes give at most 5 m/s² (UN R13), regen and road load the rest"


def test_a_standing_bus_is_held_on_a_grade_and_moves_off_only_past_the_breakaway_force():
    bus = VehicleModel(grade_percent=8.0)
    for _ in range(100):
        bus.step(0.0, 0.01)
    assert bus.speed_mps == 0.0 and bus.distance_m == 0.0
    theta = math.atan(0.08)
    hold_nm = (M * G * math.sin(theta) + FR * M * G * math.cos(theta)) * R_WHEEL / I_FD / ETA
    bus.step(0.99 * hold_nm, 0.01)
    assert bus.speed_mps == 0.0
    bus.step(1.01 * hold_nm, 0.01)
    assert bus.speed_mps > 0.0


def test_shaft_speed_is_vehicle_speed_through_tyre_and_axle():
    bus = VehicleModel(speed_kmh=60.0)
    assert bus.shaft_speed_rpm == pytest.approx(60 / 3.6 / R_WHEEL * I_FD * 60 / (2 * math.pi), rel=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="vehicle speed"):
        VehicleModel(speed_kmh=-1.0)
    bus = VehicleModel()
    with pytest.raises(ValueError, match="vehicle step"):
        bus.step(float("nan"), 0.01)
    with pytest.raises(ValueError, match="vehicle step"):
        bus.step(10.0, -0.01)
