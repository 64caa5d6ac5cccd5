"""Fixtures for the drive model's tests: the golden unit's sections and a factory for units with
parameter overrides (the way a defect profile changes a unit)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pytest

from sim.drive.golden import golden_sections
from sim.drive.model import DriveInputs, DriveState, InverterMotor

RPM = math.pi / 30.0
DT = 1e-3

Overrides = Mapping[str, Mapping[str, float]]
MakeDrive = Callable[..., InverterMotor]


@pytest.fixture(scope="session")
def golden() -> dict[str, dict[str, float]]:
    return golden_sections()


@pytest.fixture
def make_drive(golden: dict[str, dict[str, float]]) -> MakeDrive:
    """make_drive({"protection": {"overvoltage_trip": 759.2}}, initial_winding_temp_c=150.0)."""

    def make(overrides: Overrides | None = None, **kwargs: float) -> InverterMotor:
        sections = {name: dict(values) for name, values in golden.items()}
        for section, values in (overrides or {}).items():
            unknown = set(values) - set(sections[section])
            assert not unknown, f"no parameter {section}.{sorted(unknown)[0]}"
            sections[section].update(values)
        return InverterMotor(sections["motor"], sections["inverter"], sections["protection"], **kwargs)

    return make


@pytest.fixture
def magnetised() -> Callable[[InverterMotor, float, float], float]:
    """Run a drive idle at ``speed`` rad/s and ``dc_v`` for 0.6 s (flux fully built); the time reached."""

    def run(drive: InverterMotor, speed: float, dc_v: float) -> float:
        t = 0.0
        for _ in range(600):
            t += DT
            drive.step(DT, DriveInputs(t, 0.0, speed, dc_v, 60.0))
        return t

    return run


Settle = Callable[[InverterMotor, float, Callable[[float], DriveInputs], float], DriveState]


@pytest.fixture
def settle() -> Settle:
    """settle(drive, t_from, inputs_at, seconds): step with ``inputs_at(t)``; the last state."""

    def run(
        drive: InverterMotor, t: float, inputs: Callable[[float], DriveInputs], seconds: float
    ) -> DriveState:
        state = drive.state
        for _ in range(round(seconds / DT)):
            t += DT
            state = drive.step(DT, inputs(t))
        return state

    return run
