"""The plant: instrument-side physics and the drive system under test, behind the ``Plant`` interface."""

from sim.plant.base import Plant
from sim.plant.drive_plant import DrivePlant

__all__ = ["DrivePlant", "Plant"]
