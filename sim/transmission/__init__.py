"""The automatic transmission (2-4 speed clutchless AMT) of the simulated drive, and its J1939 frames.

A pure model stepped in simulated time: ``Transmission(params).step(dt_s, TransmissionInputs(...))``
returns the ``TransmissionState``; faults and shift events are in ``active_faults`` and
``events``. ``can_frames`` encodes ETC1, ETC2 and CCVS1 from the state with the drive's DBC.
"""

from __future__ import annotations

from pathlib import Path

from sim.parameters import load_section
from sim.transmission.faults import FAULTS, Event, FaultCode
from sim.transmission.model import NEUTRAL, Phase, Transmission, TransmissionInputs, TransmissionState

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "profiles" / "golden.yaml"
SECTION = "transmission"


def golden_parameters() -> dict[str, float]:
    """The golden unit's ``transmission`` section in SI units."""
    return load_section(GOLDEN_FILE, SECTION)


__all__ = [
    "FAULTS",
    "GOLDEN_FILE",
    "NEUTRAL",
    "SECTION",
    "Event",
    "FaultCode",
    "Phase",
    "Transmission",
    "TransmissionInputs",
    "TransmissionState",
    "golden_parameters",
]
