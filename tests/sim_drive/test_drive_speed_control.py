"""TSC1 speed control (INV-07): the drive's PI speed loop, alone and holding the bench's shaft."""

from __future__ import annotations

import math

import pytest

from sim.drive.speed_control import SpeedController
from sim.plant.drive_plant import DrivePlant
from tests.sim.conftest import VCU_ADDRESS
from tests.sim.test_dyno import bench_free_plant, power_plant

RPM = math.pi / 30.0
GAINS = {"speed_loop_kp": 30.0, "speed_loop_ki": 300.0}


def test_proportional_and_integral_act_on_the_speed_error() -> None:
    loop = SpeedController(GAINS)
    loop.start(0.0)
    first = loop.update(0.001, 10.0, 8.0, -1000.0, 1000.0)
    assert first == pytest.approx(30.0 * 2.0 + 300.0 * 2.0 * 0.001)
    second = loop.update(0.001, 10.0, 8.0, -1000.0, 1000.0)
    assert second - first == pytest.approx(300.0 * 2.0 * 0.001)


def test_control_starts_from_the_torque_being_produced() -> None:
    loop = SpeedController(GAINS)
    loop.start(120.0)
    assert loop.update(0.001, 50.0, 50.0, -500.0, 500.0) == pytest.approx(120.0)


def test_the_integrator_holds_while_the_output_is_at_the_limit() -> None:
    loop = SpeedController(GAINS)
    loop.start(0.0)
    for _ in range(1000):  # one second far below the target, pinned at the limit
        assert loop.update(0.001, 100.0, 0.0, -200.0, 200.0) == 200.0
    # back at the target the output is what the integrator had before it saturated: nothing wound up
    assert loop.update(0.001, 100.0, 100.0, -200.0, 200.0) < 200.0 - 30.0 * 90.0 / 100.0


def hold_speed(plant: DrivePlant, motor_rpm: float, seconds: float) -> list[float]:
    """Request ``motor_rpm`` by TSC1 speed control every 10 ms; the motor speeds of the last 0.5 s."""
    speeds = []
    steps = round(seconds / 0.01)
    for step in range(steps):
        plant.request_speed(motor_rpm, VCU_ADDRESS)
        plant.advance(plant.time_s + 0.01)
        if step >= steps - 50:
            speeds.append(plant.motor_speed_rpm)
    return speeds


def spun_up(motor_rpm: float, **overrides: float) -> DrivePlant:
    """The powered drive in 1st gear on a free-running dyno, speed-controlled up to ``motor_rpm``."""
    plant = bench_free_plant()
    plant.speed_control.kp = overrides.get("kp", plant.speed_control.kp)
    plant.speed_control.ki = overrides.get("ki", plant.speed_control.ki)
    power_plant(plant)
    plant.dyno.hold_torque(0.0)
    hold_speed(plant, motor_rpm, 2.0)
    return plant


@pytest.mark.parametrize("load_nm", [400.0, -400.0])
def test_the_drive_holds_the_requested_speed_against_the_dyno(load_nm: float) -> None:
    plant = spun_up(800.0)
    assert plant.tx.state.current_gear == 1 and plant.speed_control_active
    plant.dyno.hold_torque(load_nm)  # on the output shaft: positive brakes, negative drives
    speeds = hold_speed(plant, 800.0, 2.0)
    assert max(abs(s - 800.0) for s in speeds) < 0.5
    assert plant.motor_torque_nm == pytest.approx(load_nm / 1.65, rel=0.1)


def test_without_integral_action_the_speed_droops_under_load() -> None:
    plant = spun_up(800.0, ki=0.0)
    plant.dyno.hold_torque(400.0)
    speeds = hold_speed(plant, 800.0, 2.0)
    motor_nm = plant.motor_torque_nm
    expected_droop_rpm = motor_nm / plant.speed_control.kp / RPM
    assert sum(speeds) / len(speeds) == pytest.approx(800.0 - expected_droop_rpm, abs=2.0)
    assert expected_droop_rpm > 50.0


def test_a_torque_request_ends_speed_control() -> None:
    plant = spun_up(600.0)
    plant.request_torque(0.0, VCU_ADDRESS)
    plant.advance(plant.time_s + 0.05)
    assert not plant.speed_control_active
    assert plant.torque_request_nm == 0.0
