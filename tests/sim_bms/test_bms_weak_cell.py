"""A weak cell (capacity −20 %) seen through the BMS: it reaches the under-voltage levels first
(BMS-02) and the pack's usable capacity falls short of the rated 200 Ah [E]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

WEAK = 7
DEMAND_A = 100.0  # 0.5 C, the VCU asks this and obeys the BMS's discharge limit


def discharge(rig: Any, make_cells: Callable, capacities_ah: list[float]) -> tuple[float, int | None]:
    """Discharge from full, the current held at min(demand, BMS limit), until the BMS allows
    nothing more. Returns (Ah delivered, index of the lowest cell when the UV warning set)."""
    rig.cells = make_cells(capacities_ah, [1.0] * len(capacities_ah))
    delivered_as, warned_index = 0.0, None
    dt = 1.0
    for _ in range(4 * 3600):
        rig.pack_current_a = min(DEMAND_A, rig.bms.state.discharge_current_limit_a)
        rig.step(dt)
        delivered_as += rig.pack_current_a * dt
        if warned_index is None and rig.events("cell_undervoltage_warning"):
            warned_index = rig.bms.state.min_cell_index
        if rig.bms.state.discharge_current_limit_a < 1.0:
            break
    return delivered_as / 3600.0, warned_index


def usable_capacity_ok(rig: Any, make_cells: Callable, capacities_ah: list[float]) -> bool:
    """The pack check: ≥ 95 % of the rated 200 Ah delivered before the BMS stops discharge [E]."""
    delivered_ah, _ = discharge(rig, make_cells, capacities_ah)
    return delivered_ah >= 0.95 * 200.0


def test_golden_pack_delivers_its_capacity(make_rig: Callable, make_cells: Callable) -> None:
    rig = make_rig()
    assert usable_capacity_ok(rig, make_cells, [200.0] * 24)
    assert rig.events("cell_undervoltage") == []  # the limits stopped it before a trip


def test_weak_cell_reaches_undervoltage_first(make_rig: Callable, make_cells: Callable) -> None:
    capacities = [200.0] * 24
    capacities[WEAK] = 160.0
    rig = make_rig()
    delivered_ah, warned_index = discharge(rig, make_cells, capacities)
    assert warned_index == WEAK
    assert delivered_ah < 0.85 * 200.0


def test_defect_weak_cell_fails_the_capacity_check(make_rig: Callable, make_cells: Callable) -> None:
    capacities = [200.0] * 24
    capacities[WEAK] = 160.0
    assert not usable_capacity_ok(make_rig(), make_cells, capacities)
