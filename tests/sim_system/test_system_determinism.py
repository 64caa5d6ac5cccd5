"""Same serial and seed → identical captures and CAN traffic; another seed or serial → not.

The plant is driven on its own simulated-time grid with a scripted timeline, as the bench would
drive it: cells and pack voltage on, the BMS closes its contactors, the dyno holds the output shaft
and the VCU asks for torque.
"""

from __future__ import annotations

import numpy as np

from sim.can_node import DriveFrames
from sim.drive.waveforms import WaveformParameters, synthesise
from sim.emulators import emulator_class
from sim.plant.drive_plant import DrivePlant
from sim.profile import load_profile

INSTRUMENTS = {
    "itech.it6000c": "IT6054C-800-225",
    "chroma.87001": "87001-24",
    "chroma.63200": "63206A-1200-240",
    "magtrol.dsp7000": "DSP7000-AC250",
}


def _run(serial: str, seed: int) -> tuple[list, np.ndarray, np.ndarray]:
    profile = load_profile(serial=serial)
    physics = {}
    for driver, model in INSTRUMENTS.items():
        cls = emulator_class(driver)
        physics[cls.plant_slot] = cls.build_physics(model, profile)
    plant = DrivePlant(profile, seed=seed, **physics)
    frames = DriveFrames(plant)
    traffic: list = []
    plant.on_step = lambda p: traffic.extend(frames.due(p))

    plant.cells.output_on = [True] * plant.cells.rating.channels
    plant.supply.setpoint_v = 537.6
    plant.supply.switch_on(0.0)
    plant.dyno.hold_speed(600.0)
    plant.advance(1.0)
    for tick in range(1, 61):  # TSC1 every 10 ms, as the VCU sends it
        plant.request_torque(300.0, 0x27)
        plant.advance(1.0 + tick * 0.01)
    parameters = WaveformParameters.from_inverter(profile["inverter"])
    capture = synthesise(plant.drive_trajectory(1.4, 1.6), parameters, 1.4, 20_000, 100_000.0, seed=seed)
    currents = plant.drive_trajectory(0.0, 1.6).i_phase_rms_a
    return traffic, capture, currents


def test_same_serial_and_seed_give_identical_captures_and_can_traffic():
    traffic_a, capture_a, currents_a = _run("EDS200-0001", 7)
    traffic_b, capture_b, currents_b = _run("EDS200-0001", 7)
    assert len(traffic_a) > 100
    assert traffic_a == traffic_b
    np.testing.assert_array_equal(capture_a, capture_b)
    np.testing.assert_array_equal(currents_a, currents_b)
    assert np.ptp(capture_a[3]) > 100.0, "the motor carries current in the captured window"


def test_another_seed_changes_the_noise_not_the_physics():
    _, capture_a, _ = _run("EDS200-0001", 7)
    _, capture_b, _ = _run("EDS200-0001", 8)
    assert not np.array_equal(capture_a, capture_b)
    np.testing.assert_allclose(capture_a, capture_b, atol=5.0)


def test_another_serial_is_another_unit():
    golden = load_profile(serial="EDS200-0001")
    other = load_profile(serial="EDS200-0002")
    assert golden["motor"]["stator_resistance"] != other["motor"]["stator_resistance"]
    _, _, currents_a = _run("EDS200-0001", 7)
    _, _, currents_b = _run("EDS200-0002", 7)
    assert not np.array_equal(currents_a, currents_b)
