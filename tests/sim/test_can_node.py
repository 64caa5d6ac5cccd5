"""The drive system's CAN frames as the plant produces them on simulated time: what INV_Status says
and when INV_Faults goes out."""

from __future__ import annotations

from typing import Any

import cantools
import pytest

from sim.can_node import DBC_PATH, DriveFrames
from sim.emulators import emulator_class
from sim.plant.drive_plant import DrivePlant
from sim.profile import load_profile
from tests.sim.conftest import INSTRUMENTS, PACK_V, VCU_ADDRESS

DBC = cantools.database.load_file(DBC_PATH)
INV_STATUS = DBC.get_message_by_name("INV_Status")
# the default serial's envelope at rest (924 N·m) is below the 950 N·m peak torque; the others' not
SERIALS = ["EDS200-SIM-0001", "EDS200-0001", "EDS200-0002"]


class Rig:
    """The drive plant with the bench's instrument physics, stepped by hand in simulated time, and
    every frame it broadcasts with the simulated time it went out."""

    def __init__(self, serial: str, **overrides: Any) -> None:
        profile = load_profile(serial=serial, overrides=overrides)
        classes = [(emulator_class(spec["driver"]), spec["model"]) for spec in INSTRUMENTS]
        physics = {c.plant_slot: c.build_physics(model, profile) for c, model in classes if c.plant_slot}
        self.plant = DrivePlant(profile, seed=7, **physics)
        self.frames: list[tuple[float, tuple[int, bytes]]] = []
        broadcast = DriveFrames(self.plant)
        self.plant.on_step = lambda plant: self.frames.extend(broadcast.due(plant))

    def power(self, pack_v: float = PACK_V) -> None:
        """Cells and pack on; back once the drive is armed and magnetised."""
        plant = self.plant
        plant.cells.output_on = [True] * plant.cells.rating.channels
        plant.supply.setpoint_v = pack_v
        plant.supply.switch_on(0.0)
        self.run_until(lambda: plant.drive.state.flux_fraction > 0.9999, "the drive armed and magnetised")

    def run(self, seconds: float, torque_nm: float = 0.0) -> None:
        """``seconds`` on, the VCU asking for ``torque_nm`` every 10 ms."""
        for _ in range(round(seconds / 0.01)):
            self.plant.request_torque(torque_nm, VCU_ADDRESS)
            self.plant.advance(self.plant.time_s + 0.01)

    def run_until(self, condition: Any, what: str, timeout_s: float = 5.0) -> None:
        deadline = self.plant.time_s + timeout_s
        while not condition():
            assert self.plant.time_s < deadline, f"{what}: not within {timeout_s} s"
            self.plant.advance(self.plant.time_s + 0.01)

    def last(self, message: Any) -> dict[str, float]:
        data = next(data for _, (can_id, data) in reversed(self.frames) if can_id == message.frame_id)
        return message.decode(data)


@pytest.mark.parametrize("serial", SERIALS)
def test_derating_active_is_off_at_rest_and_driving_normally(serial: str) -> None:
    rig = Rig(serial)
    rig.power()
    rig.run(0.1)
    assert rig.plant.drive.state.pwm_enabled
    assert rig.last(INV_STATUS)["DeratingActive"] == 0, "at rest"
    rig.plant.dyno.hold_speed(1000.0)
    rig.run(1.0, torque_nm=200.0)  # 35 kW, inside the 54 kW supply
    assert rig.plant.motor_torque_nm == pytest.approx(200.0, abs=0.01)
    assert rig.last(INV_STATUS)["DeratingActive"] == 0, "driving at 200 N·m, 1650 rpm"


@pytest.mark.parametrize("serial", SERIALS)
def test_derating_active_under_an_undervoltage_derate(serial: str) -> None:
    rig = Rig(serial)
    rig.power(pack_v=430.0)  # between the full-torque 450 V and the zero-torque 400 V
    rig.run(0.1, torque_nm=100.0)
    state = rig.plant.drive.state
    assert state.pwm_enabled and state.undervoltage_derate < 1.0
    assert rig.last(INV_STATUS)["DeratingActive"] == 1


@pytest.mark.parametrize("serial", SERIALS)
def test_derating_active_under_a_heatsink_derate(serial: str) -> None:
    rig = Rig(serial, **{"bench.coolant_temperature": 80.0})  # the heatsink derates from 75 °C
    rig.power()
    rig.run(0.1)
    state = rig.plant.drive.state
    assert state.pwm_enabled and state.heatsink_derate < 1.0
    assert rig.last(INV_STATUS)["DeratingActive"] == 1


@pytest.mark.parametrize("serial", SERIALS)
def test_derating_active_under_the_regen_taper(serial: str) -> None:
    rig = Rig(serial)
    rig.power(pack_v=690.0)  # regen tapers from 680 V to nothing at 700 V
    rig.run(0.1)
    state = rig.plant.drive.state
    assert state.pwm_enabled and state.regen_taper < 1.0
    assert rig.last(INV_STATUS)["DeratingActive"] == 1
