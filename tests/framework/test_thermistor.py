"""The NTC curve a thermistor emulator is set by: the β law, both ways, and what it refuses."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hil.product import load_product
from hil.thermistor import NtcCurve

ROOT = Path(__file__).resolve().parents[2]


def test_beta_law_both_ways_through_r25() -> None:
    curve = NtcCurve(10_000.0, 3435.0)
    assert curve.resistance_ohm(25.0) == pytest.approx(10_000.0)
    # R(T) = R25 exp(β (1/T − 1/T25)): 60 °C is 2981 Ω for β 3435 K
    assert curve.resistance_ohm(60.0) == pytest.approx(
        10_000.0 * math.exp(3435.0 * (1 / 333.15 - 1 / 298.15))
    )
    for celsius in (-30.0, 0.0, 49.5, 70.0):
        assert curve.temperature_c(curve.resistance_ohm(celsius)) == pytest.approx(celsius)
    assert curve.resistance_ohm(0.0) > curve.resistance_ohm(25.0) > curve.resistance_ohm(60.0)


def test_the_products_ntc() -> None:
    curve = NtcCurve.of_product(load_product(ROOT / "specs"))
    assert (curve.r25_ohm, curve.beta_k) == (10_000.0, 3435.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -300.0])
def test_not_a_temperature_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="not a temperature"):
        NtcCurve(10_000.0, 3435.0).resistance_ohm(bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_not_a_resistance_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="not a resistance"):
        NtcCurve(10_000.0, 3435.0).temperature_c(bad)


def test_a_curve_needs_positive_constants() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        NtcCurve(0.0, 3435.0)
