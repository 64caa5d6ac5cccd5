"""Plant models in the loop: the environment of the drive, simulated by the framework around it.

``pack`` (168-cell LiFePO4 pack, 2RC cells), ``vehicle`` (12 m city-bus road load), ``cycle`` (drive
cycles as data) and ``driver`` (speed follower giving the TSC1 torque request) are the models;
``emulation`` wires them to the bench's instruments and ``loop`` runs them at 100 Hz. They talk only
to instruments, on a real bench and on the simulated one alike.
"""

from hil.models.cycle import DriveCycle
from hil.models.driver import DriverModel, DriverParameters
from hil.models.emulation import CycleFollower, PackEmulation, RoadLoadEmulation
from hil.models.loop import LoopStats, PlantLoop, PlantLoopError
from hil.models.pack import CellDeviation, PackModel, PackParameters
from hil.models.vehicle import VehicleModel, VehicleParameters

__all__ = [
    "CellDeviation",
    "CycleFollower",
    "DriveCycle",
    "DriverModel",
    "DriverParameters",
    "LoopStats",
    "PackEmulation",
    "PackModel",
    "PackParameters",
    "PlantLoop",
    "PlantLoopError",
    "RoadLoadEmulation",
    "VehicleModel",
    "VehicleParameters",
]
