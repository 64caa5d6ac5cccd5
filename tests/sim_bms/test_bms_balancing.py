"""Passive balancing against BMS-06 [E]: starts when the highest cell is above 3.40 V and the
spread exceeds 15 mV, bleeds 50–200 mA per cell (50 mA example [S: victron venus #536]), and the
spread shrinks at the rate the bleed current predicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

HIGH = 5  # the cell set high


def spread(high_v: float, low_v: float, n: int = 24) -> list[float]:
    cells = [low_v] * n
    cells[HIGH] = high_v
    return cells


def balancing_after(rig: Any, high_v: float, low_v: float) -> bool:
    rig.inputs.cell_voltages_v = spread(high_v, low_v)
    rig.run(0.05)
    return rig.bms.state.balancing_active


@pytest.mark.parametrize(
    ("high_v", "low_v", "expected"),
    [
        (3.395, 3.360, False),  # spread, but the highest cell is not above 3.40 V
        (3.410, 3.390, True),
        (3.450, 3.436, False),  # above 3.40 V, spread 14 mV
        (3.450, 3.434, True),  # spread 16 mV
    ],
)
def test_start_thresholds(make_rig: Callable, high_v: float, low_v: float, expected: bool) -> None:
    assert balancing_after(make_rig(cell_voltage_noise=0.0), high_v, low_v) is expected


@pytest.mark.parametrize("high_v", [3.41, 3.65])
def test_only_high_cells_bleed_50_to_200_ma(make_rig: Callable, high_v: float) -> None:
    rig = make_rig()
    assert balancing_after(rig, high_v, 3.39)
    bleed = rig.bms.state.bleed_currents_a
    assert 0.050 <= bleed[HIGH] <= 0.200  # drawn from the channel: positive
    assert bleed[HIGH] == pytest.approx(high_v / rig.bms.params["balance_resistance"])
    assert [b for i, b in enumerate(bleed) if i != HIGH] == [0.0] * 23


def spread_after(rig: Any, make_cells: Callable, seconds: float) -> tuple[float, float]:
    """BMS-06 stimulus at test scale: one cell +52 mV at the top of charge, cells of 1 Ah so the
    bleed shows within the hour (a 200 Ah cell takes 200 times as long). Returns the true spread
    before and after ``seconds`` at rest."""
    socs = [1.01] * 24
    socs[HIGH] = 1.08  # 7 % SOC higher on the 7.5 mV/% slope above 98 %
    rig.cells = make_cells([1.0] * 24, socs)
    rig.pack_current_a = 0.0
    before = max(rig.cells.voltages(0.0)) - min(rig.cells.voltages(0.0))
    rig.run(seconds, dt_s=1.0)
    return before, max(rig.cells.voltages(0.0)) - min(rig.cells.voltages(0.0))


def test_spread_shrinks_at_the_bleed_rate(make_rig: Callable, make_cells: Callable) -> None:
    rig = make_rig()
    before, after = spread_after(rig, make_cells, 1000.0)
    slope_v_per_soc = (3.400 - 3.385) / 0.02  # reference §3.2 table, 98 → 100 %
    bleed_a = 3.45 / rig.bms.params["balance_resistance"]
    predicted = before - slope_v_per_soc * bleed_a * 1000.0 / 3600.0
    assert after == pytest.approx(predicted, abs=0.002)


def spread_below_10_mv(rig: Any, make_cells: Callable) -> bool:
    """BMS-06 check: ΔV < 10 mV after the time the bleed current needs (≈ 1950 s here) + margin."""
    _, after = spread_after(rig, make_cells, 2400.0)
    return after < 0.010


def test_balancing_closes_the_spread(make_rig: Callable, make_cells: Callable) -> None:
    rig = make_rig()
    assert spread_below_10_mv(rig, make_cells)
    assert not rig.bms.state.balancing_active  # stops once the spread is small


def test_defect_balancing_disabled_fails_the_check(make_rig: Callable, make_cells: Callable) -> None:
    rig = make_rig(balancing_enabled=0.0)
    assert not spread_below_10_mv(rig, make_cells)
    assert rig.bms.state.bleed_currents_a == [0.0] * 24


def test_no_balancing_with_a_trip_active(make_rig: Callable) -> None:
    rig = make_rig()
    rig.inputs.cell_temps_c = [25.0, 65.0, 25.0, 25.0]
    rig.run(1.0)
    assert not balancing_after(rig, 3.45, 3.40)
