"""The BMS firmware and HV path wired the way the plant wires them, and a stand-in for the pack's
cells, for the BMS tests. Parameters are the golden unit's; a test overrides by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from sim.bms import GOLDEN_PARAMETERS, BmsFirmware, BmsInputs, HvPath, OcvTable
from sim.parameters import load_section

PACK_V = 537.6  # 168 × 3.2 V, reference system §2 [E]


@cache
def _golden(section: str) -> dict[str, float]:
    return load_section(GOLDEN_PARAMETERS, section)


@pytest.fixture
def bms_params() -> dict[str, float]:
    return dict(_golden("bms"))


@pytest.fixture
def hv_params() -> dict[str, float]:
    return dict(_golden("hv_path"))


class CellString:
    """Cells that hold their own charge: per-cell capacity and SOC, resting voltage from an OCV
    table (straight-line past its ends, as a cell near full charge rises), minus R0·I. The BMS only
    sees voltages, so a weak cell's effect has to come from here."""

    def __init__(self, ocv: OcvTable, capacities_as: list[float], socs: list[float], r0_ohm: float) -> None:
        self.ocv = ocv
        self.capacities_as = capacities_as
        self.socs = socs
        self.r0_ohm = r0_ohm

    def voltages(self, current_a: float) -> list[float]:
        return [self.ocv.ocv(s) - current_a * self.r0_ohm for s in self.socs]

    def step(self, dt_s: float, current_a: float, bleed_a: list[float]) -> None:
        self.socs = [
            s - (current_a + b) * dt_s / c
            for s, c, b in zip(self.socs, self.capacities_as, bleed_a, strict=True)
        ]


class Rig:
    """One firmware, one HV path, the supply at ``source_v``; ``link_load`` is the current the
    inverter draws at the link voltage. With ``pack_current_a`` set, the BMS sees that current
    instead of the HV path's (long SOC runs); with ``cells`` set, the cell voltages come from them."""

    def __init__(self, bms_params: dict[str, float], hv_params: dict[str, float], n_cells: int = 24) -> None:
        self.bms = BmsFirmware(bms_params, n_cells)
        self.hv = HvPath(hv_params)
        self.source_v = PACK_V
        self.link_load: Callable[[float], float] = lambda link_v: 0.0
        self.pack_current_a: float | None = None
        self.cells: CellString | None = None
        self.inputs = BmsInputs(0.0, [3.3] * n_cells, [25.0] * 4, 0.0, PACK_V, 0.0)
        self.t = 0.0

    def step(self, dt_s: float = 1e-3) -> None:
        hv, bms, inputs = self.hv, self.bms, self.inputs
        hv.step(dt_s, self.source_v, self.link_load(hv.link_voltage_v), bms.state.contactor_command)
        self.t += dt_s
        inputs.t_s = self.t
        current = hv.source_current_a if self.pack_current_a is None else self.pack_current_a
        if self.cells is not None:
            inputs.cell_voltages_v = self.cells.voltages(current)
        inputs.pack_current_a = current
        inputs.pack_voltage_v = self.source_v
        inputs.link_voltage_v = hv.link_voltage_v
        inputs.aux_contacts = hv.aux_contacts
        bms.step(dt_s, inputs)
        inputs.reset = False  # a reset is a one-cycle pulse
        if self.cells is not None:
            self.cells.step(dt_s, current, bms.state.bleed_currents_a)

    def run(self, duration_s: float, dt_s: float = 1e-3) -> None:
        for _ in range(round(duration_s / dt_s)):
            self.step(dt_s)

    def run_until(
        self, condition: Callable[[Rig], bool], timeout_s: float, dt_s: float = 1e-3
    ) -> float | None:
        """Step until ``condition(rig)``; the time it first held, None if not within ``timeout_s``."""
        for _ in range(round(timeout_s / dt_s)):
            self.step(dt_s)
            if condition(self):
                return self.t
        return None

    def close(self, timeout_s: float = 2.0) -> float:
        """Request the contactors closed and run until the sequence is done; the time it took."""
        self.inputs.close_request = True
        start = self.t
        done = self.run_until(
            lambda r: r.bms.state.contactor_command.main and not r.hv.aux_contacts.precharge, timeout_s
        )
        assert done is not None, f"contactors not closed within {timeout_s} s: {self.bms.events}"
        return done - start

    def events(self, name: str, kind: str | None = None) -> list[float]:
        return [e.t_s for e in self.bms.events if e.name == name and (kind is None or e.kind == kind)]


@pytest.fixture
def make_rig(bms_params: dict[str, float], hv_params: dict[str, float]) -> Callable[..., Rig]:
    """A rig on the golden parameters; keyword overrides go to whichever section has the name."""

    def make(n_cells: int = 24, **overrides: float) -> Rig:
        bms, hv = dict(bms_params), dict(hv_params)
        for name, value in overrides.items():
            target = bms if name in bms else hv
            assert name in target, f"no parameter {name!r} in bms or hv_path"
            target[name] = value
        return Rig(bms, hv, n_cells)

    return make


@pytest.fixture
def make_cells(bms_params: dict[str, float]) -> Callable[..., CellString]:
    """Cells on the firmware's own OCV table; ``capacities_ah`` one per cell."""
    ocv = OcvTable.from_params(bms_params)

    def make(capacities_ah: list[float], socs: list[float], r0_ohm: float = 0.35e-3) -> CellString:
        return CellString(ocv, [c * 3600.0 for c in capacities_ah], list(socs), r0_ohm)

    return make
