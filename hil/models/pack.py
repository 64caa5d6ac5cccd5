"""The battery pack model: 168 LiFePO4 cells in series, each a 2RC equivalent circuit.

What it holds per cell: state of charge, the two RC voltages, temperature, capacity and R0 (the
last two drawn around their nominal values from a seeded numpy Generator, so a pack is repeatable
and another seed is another pack), an optional self-discharge. What it is fed each step: the pack
current the supply MEASURED (+ = the pack discharges) and, for cells on the BMS's sense board,
what the BMS draws from each (its quiescent draw and balancing bleed). What it gives: every cell's
terminal voltage, the pack terminal voltage (cells plus busbars), per-cell SOC and the reference
Ah integral of the measured current. Figures and their sources: ``hil.models.lfp_cell`` and
``PackParameters``.

Cell-level scenarios come from the physics, not hand-set voltages: a ``CellDeviation`` makes one
cell weak (less capacity, more R0) or drifting (an SOC offset, a self-discharge), and that cell
then runs ahead of the others under charge or discharge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hil.models.figures import sourced
from hil.models.lfp_cell import CellParameters, ocv_v

GAS_CONSTANT_J_PER_MOL_K = 8.314462618  # [S: CODATA 2018 molar gas constant]
KELVIN = 273.15


@dataclass(frozen=True)
class PackParameters:
    """The pack around the cells."""

    series_cells: int = sourced(168, "cells", "E", "reference §2 reference system: 168S, 537.6 V nominal")
    busbar_ohm_per_cell: float = sourced(0.05e-3, "ohm", "E", "reference §3.3: busbar 0.05 mΩ/cell")
    cell: CellParameters = field(default_factory=CellParameters)


@dataclass(frozen=True)
class CellDeviation:
    """One cell unlike the others: weak (capacity and/or R0 factor) or drifting (SOC offset,
    self-discharge current). ``index`` counts from 0 along the series string."""

    index: int
    capacity_factor: float = 1.0
    r0_factor: float = 1.0
    soc_offset: float = 0.0
    self_discharge_a: float = 0.0

    def __post_init__(self) -> None:
        if not self.capacity_factor > 0 or not self.r0_factor > 0:
            raise ValueError(f"cell {self.index}: capacity_factor and r0_factor must be > 0")
        for name in ("soc_offset", "self_discharge_a"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"cell {self.index}: {name} must be finite")


class PackModel:
    """Vectorised over the cells: one ``step`` is a handful of numpy operations on 168 values.

    State changes replace whole arrays, so a reader in another thread sees one step or the next,
    never half of one.
    """

    def __init__(
        self,
        parameters: PackParameters | None = None,
        *,
        seed: int,
        soc: float = 0.5,
        temperature_c: float = 25.0,
        deviations: Sequence[CellDeviation] = (),
    ) -> None:
        self.parameters = p = parameters or PackParameters()
        cell = p.cell
        n = p.series_cells
        if n < 1:
            raise ValueError(f"series_cells={n}: a pack needs at least one cell")
        rng = np.random.default_rng(seed)
        self.capacity_ah = cell.capacity_ah * (1.0 + cell.capacity_sigma * rng.standard_normal(n))
        r0_nominal = cell.r0_ohm_at_ecm_capacity * cell.capacity_scale
        self.r0_ohm = r0_nominal * (1.0 + cell.r0_sigma * rng.standard_normal(n))
        self._r1_ohm = cell.r1_ohm_at_ecm_capacity * cell.capacity_scale
        self._r2_ohm = cell.r2_ohm_at_ecm_capacity * cell.capacity_scale
        self._soc = np.full(n, float(soc))
        self.self_discharge_a = np.zeros(n)
        for deviation in deviations:
            if not 0 <= deviation.index < n:
                raise ValueError(f"cell deviation index {deviation.index} is not in 0..{n - 1}")
            i = deviation.index
            self.capacity_ah[i] *= deviation.capacity_factor
            self.r0_ohm[i] *= deviation.r0_factor
            self._soc[i] += deviation.soc_offset
            self.self_discharge_a[i] = deviation.self_discharge_a
        self._v1 = np.zeros(n)
        self._v2 = np.zeros(n)
        self._current_a = 0.0
        self._cell_current_a: np.ndarray | float = 0.0
        self.initial_soc = float(soc)
        self.reference_ah = 0.0
        self.temperature_c = np.zeros(n)
        self.set_temperature(temperature_c)

    # --- inputs ----------------------------------------------------------------------------------
    def set_temperature(
        self, temperature_c: float | Sequence[float], cells: Sequence[int] | None = None
    ) -> None:
        """Cell temperature(s) in °C, for all cells or for ``cells``; R0 follows Arrhenius."""
        temperatures = self.temperature_c.copy()
        values = np.asarray(temperature_c, dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values <= -KELVIN):
            raise ValueError(f"cell temperature {temperature_c!r} °C is not a finite temperature")
        if cells is None:
            temperatures[:] = values
        else:
            temperatures[list(cells)] = values
        cell = self.parameters.cell
        exponent = (cell.activation_energy_j_per_mol / GAS_CONSTANT_J_PER_MOL_K) * (
            1.0 / (temperatures + KELVIN) - 1.0 / (cell.reference_temperature_c + KELVIN)
        )
        self._r0_temperature_factor = np.exp(exponent)
        self.temperature_c = temperatures
        self._update_outputs()

    def step(self, current_a: float, dt_s: float, cell_draw_a: np.ndarray | None = None) -> None:
        """Advance by ``dt_s`` with the measured pack current (+ = discharge) held over the step.

        ``cell_draw_a`` (one value per cell, + = drawn from the cell) is what flows out of a cell
        besides the pack current: the BMS's quiescent draw and balancing bleed on its sense lines.
        """
        if not (math.isfinite(current_a) and math.isfinite(dt_s)) or dt_s < 0:
            raise ValueError(f"pack step: current_a={current_a!r}, dt_s={dt_s!r} (need finite, dt >= 0)")
        cell = self.parameters.cell
        i_cell: np.ndarray | float = current_a if cell_draw_a is None else current_a + cell_draw_a
        # exact for a current held over the step: v → R·I with time constant τ
        a1 = math.exp(-dt_s / cell.tau1_s)
        a2 = math.exp(-dt_s / cell.tau2_s)
        self._v1 = self._v1 * a1 + (self._r1_ohm * (1.0 - a1)) * i_cell
        self._v2 = self._v2 * a2 + (self._r2_ohm * (1.0 - a2)) * i_cell
        # charge enters with the coulombic efficiency; discharge and self-discharge leave whole
        effective = np.where(np.asarray(i_cell) < 0.0, cell.coulombic_efficiency * i_cell, i_cell)
        self._soc = self._soc - (effective + self.self_discharge_a) * (dt_s / 3600.0) / self.capacity_ah
        self.reference_ah += current_a * dt_s / 3600.0
        self._current_a = current_a
        self._cell_current_a = i_cell
        self._update_outputs()

    def _update_outputs(self) -> None:
        cell = self.parameters.cell
        soc = self._soc
        at_ends = (soc < cell.r0_low_soc) | (soc > cell.r0_high_soc)
        r0 = self.r0_ohm * self._r0_temperature_factor * np.where(at_ends, cell.r0_soc_factor, 1.0)
        cells = ocv_v(soc) - self._v1 - self._v2 - r0 * self._cell_current_a
        busbars = self.n * self.parameters.busbar_ohm_per_cell * self._current_a
        self._cell_voltages_v = cells
        self._terminal_voltage_v = float(cells.sum()) - busbars

    # --- outputs ---------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.parameters.series_cells

    @property
    def cell_voltages_v(self) -> np.ndarray:
        """Terminal voltage of each cell, as its sense lines see it."""
        return self._cell_voltages_v

    @property
    def terminal_voltage_v(self) -> float:
        """The pack's terminal voltage: the cells less the busbars' drop."""
        return self._terminal_voltage_v

    @property
    def soc(self) -> np.ndarray:
        """State of charge of each cell (fraction; below 0 or above 1 when driven past the ends)."""
        return self._soc

    @property
    def current_a(self) -> float:
        """The pack current of the last step (+ = discharge)."""
        return self._current_a

    @property
    def reference_soc(self) -> float:
        """Initial SOC less the reference Ah integral over the nominal capacity: the BMS's
        coulomb counter should read this (BMS-05)."""
        return self.initial_soc - self.reference_ah / self.parameters.cell.capacity_ah
