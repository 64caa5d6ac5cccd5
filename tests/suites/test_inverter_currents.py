"""The inverter suite reads torque dynamics off the phase currents (test_suites/inverter/currents.py):
checked here against the drive model's own torque, on waveforms synthesised as the analyzer would
capture them, for a clean unit, a harmonic-rich one and an unbalanced one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hil.waveform import Capture
from sim.drive.golden import golden_sections
from sim.drive.model import DriveInputs, InverterMotor
from sim.drive.waveforms import TrajectoryRecorder, WaveformParameters, synthesise
from test_suites.inverter.currents import PHASES, motor_torque_shape, pwm_off_time

DT = 1e-3
SPEED = 1500.0 * math.pi / 30.0
RATE = 100_000.0
STEPS = ((0.6, 0.0), (0.15, 120.0), (0.15, 240.0), (0.15, -120.0))  # (seconds, N·m), flux built first
CHANNELS = (*PHASES, "U1", "U2", "U3")


def run(inverter: dict[str, float], steps=STEPS, dc_v=lambda t: 540.0):
    sections = golden_sections()
    drive = InverterMotor(sections["motor"], {**sections["inverter"], **inverter}, sections["protection"])
    recorder, torques, t = TrajectoryRecorder(), [], 0.0
    for seconds, torque in steps:
        for _ in range(round(seconds / DT)):
            t += DT
            state = drive.step(DT, DriveInputs(t, torque, SPEED, dc_v(t), 60.0))
            recorder.append(state)
            torques.append((t, state.torque_nm))
    parameters = WaveformParameters.from_inverter({**sections["inverter"], **inverter})
    return drive, recorder.trajectory(), parameters, np.array(torques)


def capture(trajectory, parameters, t0: float, seconds: float) -> Capture:
    data = synthesise(trajectory, parameters, t0, round(seconds * RATE), RATE, CHANNELS, seed=5)
    return Capture.from_arrays(data, RATE, CHANNELS, ["A"] * 3 + ["V"] * 3, t0)


@pytest.mark.parametrize(
    "inverter",
    [{}, {"harmonic_scale": 4.2}, {"phase_gain_u": 1.08}],
    ids=["clean", "harmonic_rich", "unbalanced"],
)
def test_the_q_current_follows_the_torque(inverter) -> None:
    _, trajectory, parameters, torques = run(inverter)
    t0 = 0.4  # 0.2 s at zero torque with the flux built, then the three steps
    cap = capture(trajectory, parameters, t0, 0.64)
    shape = motor_torque_shape(cap, (t0, t0 + 0.19), average_s=0.0005)
    times = cap.time_s()
    true = np.interp(times, torques[:, 0], torques[:, 1])
    plateau = (times > 0.9) & (times < 0.95)  # late in the step to 240 N·m
    scaled = shape * np.mean(true[plateau]) / np.mean(shape[plateau])
    # away from the steps themselves and from the capture's ends (where the switching average is short)
    settled = (
        (np.abs(np.diff(true, prepend=true[0])) < 1e-3) & (times > t0 + 0.001) & (times < cap.end_s - 0.001)
    )
    loaded = settled & (np.abs(true) > 100.0)
    assert np.max(np.abs(scaled - true)[loaded]) < 0.01 * 240.0
    # at zero torque √(|i|² − i_d²) lifts what ripple is left: its peaks stay within 15 % of a
    # 120 N·m step (a few % where the harmonics are the golden unit's)
    idle = settled & (true == 0.0)
    assert np.max(np.abs(scaled[idle])) < 0.15 * 120.0


def test_the_end_of_modulation_is_found_at_the_trip() -> None:
    drive, trajectory, parameters, _ = run(
        {}, steps=((0.6, 0.0), (0.1, 100.0), (0.1, 100.0)), dc_v=lambda t: 540.0 if t < 0.65 else 760.0
    )
    off = next(e.t_s for e in drive.events if e.name == "pwm" and e.kind == "off")
    cap = capture(trajectory, parameters, 0.6, 0.15)
    assert pwm_off_time(cap) == pytest.approx(off, abs=1.0 / RATE)
