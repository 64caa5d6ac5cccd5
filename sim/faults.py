"""What every simulated subsystem reports to diagnostics: fault codes and events at exact times.

Each subsystem (``sim.drive``, ``sim.bms``, ``sim.transmission``) keeps its own ``FAULTS`` table
and documents its event kinds; the plant turns changes of ``active_faults`` into DTCs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lamp = Literal["amber", "red"]


@dataclass(frozen=True)
class FaultCode:
    spn: int
    fmi: int
    lamp: Lamp
    doc: str
    latching: bool = False  # held until its condition is gone and a reset arrives


@dataclass(frozen=True)
class Event:
    """Something that happened at ``t_s`` (interpolated inside the step); ``name`` is a FAULTS key
    or a subsystem's own step (a shift, the PWM gate); ``kind`` as the subsystem documents."""

    t_s: float
    name: str
    kind: str
