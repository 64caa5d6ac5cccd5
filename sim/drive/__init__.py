"""The inverter + induction motor of the drive under test: a quasi-static field-oriented model with
losses, thermal derating and protections (``model``), the steady-state efficiency map (``losses``),
and analyzer waveforms synthesised from its recorded trajectory (``waveforms``)."""

from sim.drive.faults import FAULTS, Event, FaultCode
from sim.drive.golden import golden_sections
from sim.drive.losses import EfficiencyMap, efficiency_map
from sim.drive.model import DriveInputs, DriveState, InverterMotor
from sim.drive.waveforms import (
    CHANNELS,
    DriveTrajectory,
    TrajectoryRecorder,
    WaveformParameters,
    synthesise,
)

__all__ = [
    "CHANNELS",
    "FAULTS",
    "DriveInputs",
    "DriveState",
    "DriveTrajectory",
    "EfficiencyMap",
    "Event",
    "FaultCode",
    "InverterMotor",
    "TrajectoryRecorder",
    "WaveformParameters",
    "efficiency_map",
    "golden_sections",
    "synthesise",
]
