"""What the emulators and ECUs ask of the physics, whatever plant stands behind them."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from sim.plant.cells import CellBank
from sim.plant.dyno import DynoModel
from sim.plant.eload import LoadModel
from sim.plant.insulation import FaultBox
from sim.plant.supply import SupplyModel
from sim.plant.thermistors import DecadeResistor


class Plant(ABC):
    """Instrument-side physics (``supply``, ``eload``, ``dyno``, ``cells``, ``thermistor``,
    ``fault_box``: None when the bench has no such instrument) and the drive under test, stepped to
    simulated time ``time_s``."""

    supply: SupplyModel | None
    eload: LoadModel | None
    dyno: DynoModel | None
    cells: CellBank | None
    thermistor: DecadeResistor | None
    fault_box: FaultBox | None
    time_s: float

    @abstractmethod
    def advance(self, time_s: float) -> None:
        """Step forward to ``time_s`` (seconds since the simulation started); never backwards."""

    @abstractmethod
    def request_torque(self, torque_nm: float, source_address: int) -> None:
        """A torque request from CAN (TSC1) by the controller at ``source_address``."""

    @property
    @abstractmethod
    def torque_request_nm(self) -> float: ...
    @property
    @abstractmethod
    def controlling_address(self) -> int: ...
    @property
    @abstractmethod
    def speed_rpm(self) -> float: ...
    @property
    @abstractmethod
    def motor_torque_nm(self) -> float: ...
    @property
    @abstractmethod
    def dc_link_voltage_v(self) -> float: ...
    @property
    @abstractmethod
    def dc_input_current_a(self) -> float:
        """Into the inverter's DC input terminals, behind the contactors (the link capacitor's
        charging current included)."""

    @property
    @abstractmethod
    def electrical_frequency_hz(self) -> float: ...

    @abstractmethod
    def phase_quantities(self) -> tuple[float, float, float]:
        """(phase voltage rms V, phase current rms A, current lag rad) of the fundamental now."""

    @abstractmethod
    def trajectory(self, start_s: float, end_s: float) -> dict[str, np.ndarray]:
        """``time_s`` and the recorded drive-state columns over at least [start_s, end_s]."""
