"""TSC1 in speed control over the bench's CAN: the drive follows the requested speed and says so."""

from __future__ import annotations

import can
import cantools
import pytest

from sim.bench import SimulatedBench
from sim.can_node import DBC_PATH
from tests.sim.conftest import TSC1_PERIOD_S, TSC1_TO_DRIVE_FROM_VCU, wait_for

DB = cantools.database.load_file(DBC_PATH)


def tsc1_speed(speed_rpm: float) -> can.Message:
    """TSC1 with override control mode 1 (speed control) and the requested speed at 0.125 rpm/bit."""
    raw = round(speed_rpm / 0.125)
    return can.Message(
        arbitration_id=TSC1_TO_DRIVE_FROM_VCU,
        data=[0x01, raw & 0xFF, raw >> 8, 125, 0xFF, 0xFF, 0xFF, 0xFF],
    )


def latest(bus: can.BusABC, name: str, timeout_s: float = 1.0) -> dict:
    frame_id = DB.get_message_by_name(name).frame_id
    while (message := bus.recv(timeout=timeout_s)) is not None:
        if message.arbitration_id == frame_id:
            return DB.decode_message(frame_id, message.data, decode_choices=False)
    pytest.fail(f"no {name} within {timeout_s} s")


def test_the_drive_runs_the_motor_at_the_requested_speed(powered: SimulatedBench, vcu) -> None:
    with powered.simulation.now() as plant:
        plant.dyno.hold_torque(0.0)  # the shaft is the drive's to turn
    task = vcu.bus.send_periodic(tsc1_speed(700.0), TSC1_PERIOD_S)
    try:
        since: list[float] = []

        def at_speed() -> bool:  # and held there for half a second, the loop's overshoot behind it
            with powered.simulation.now() as plant:
                if abs(plant.motor_speed_rpm - 700.0) >= 1.0 or not plant.speed_control_active:
                    since.clear()
                    return False
                since[:] = since or [plant.time_s]
                return plant.time_s - since[0] >= 0.5

        wait_for(at_speed, timeout_s=5.0, what="the motor held at 700 rpm")
        listener = can.Bus(**powered.can_kwargs)  # hears only what the drive says from now on
        try:
            status = latest(listener, "INV_Status")
            eec1 = latest(listener, "EEC1")
        finally:
            listener.shutdown()
    finally:
        task.stop()
    assert status["ControlMode"] == 2  # speed
    assert eec1["EngineSpeed"] == pytest.approx(700.0, abs=1.0)
