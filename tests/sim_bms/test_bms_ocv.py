"""The firmware's OCV–SOC table against reference §3.2 (OSBMS BatteryLookup.cpp, Thunder Sky [S])."""

from __future__ import annotations

import pytest

from sim.bms import OcvTable

# reference §3.2 [S: DuncanAitken/OSBMS]
OSBMS = {0: 2.800, 10: 3.184, 25: 3.235, 40: 3.271, 65: 3.294, 75: 3.307, 89: 3.324, 98: 3.385, 100: 3.400}


@pytest.fixture
def table(bms_params: dict[str, float]) -> OcvTable:
    return OcvTable.from_params(bms_params)


@pytest.mark.parametrize(("soc_pct", "ocv_v"), OSBMS.items())
def test_table_points_are_the_reference_values(table: OcvTable, soc_pct: int, ocv_v: float) -> None:
    assert table.ocv(soc_pct / 100) == pytest.approx(ocv_v, abs=1e-9)
    assert table.soc(ocv_v) == pytest.approx(soc_pct / 100, abs=1e-9)


def test_between_points_is_linear(table: OcvTable) -> None:
    assert table.ocv(0.05) == pytest.approx((2.800 + 3.184) / 2)
    assert table.soc((3.294 + 3.307) / 2) == pytest.approx(0.70)


def test_plateau_is_flat(table: OcvTable) -> None:
    # reference §3.2: 40–89 % spans only ~53 mV, so OCV-based SOC is useless there
    assert table.ocv(0.89) - table.ocv(0.40) == pytest.approx(0.053, abs=1e-9)


def test_soc_is_clamped_outside_the_table(table: OcvTable) -> None:
    assert table.soc(2.5) == 0.0
    assert table.soc(3.6) == 1.0


def test_a_table_that_falls_is_refused() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        OcvTable([0.0, 0.5, 1.0], [3.0, 3.3, 3.2])
