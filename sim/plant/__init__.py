"""The plant: instrument-side physics and the drive under test, behind the ``Plant`` interface."""

from sim.plant.base import TRAJECTORY_COLUMNS, Plant
from sim.plant.simple import SimplePlant

__all__ = ["TRAJECTORY_COLUMNS", "Plant", "SimplePlant"]
