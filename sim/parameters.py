"""Unit-profile parameters: a value with its unit, the range it may take and the source of the figure.

A parameter in a profile file reads ``r_s: {value: 15, unit: mohm, range: [5, 50], source: E,
doc: ...}``. An override may be a bare number (in the parameter's unit) or a string with its own
unit (``"16 mohm"``); a unit of the wrong dimension or a value outside the range is refused. The
physics reads SI floats (temperatures stay in °C).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SOURCES = ("S", "R", "E")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


class ParameterError(ValueError):
    """A parameter that cannot be used; the message names file and dotted path."""


@cache
def _ureg() -> Any:
    import pint  # loaded on first use: a profile load pays for it, an import of sim does not

    return pint.UnitRegistry()


@dataclass(frozen=True)
class Parameter:
    value: float
    unit: str
    low: float
    high: float
    source: str
    doc: str = ""

    def si(self) -> float:
        quantity = _ureg().Quantity(self.value, self.unit)
        if quantity.dimensionality == _ureg().Quantity(0, "degC").dimensionality:
            # a temperature difference (an offset, a hysteresis) is not a temperature: kelvin-sized
            if "delta" in str(quantity.units):
                return float(quantity.to("delta_degC").magnitude)
            return float(quantity.to("degC").magnitude)
        return float(quantity.to_base_units().magnitude)

    def with_value(self, raw: Any, where: str) -> Parameter:
        """This parameter set to ``raw`` (a number in its unit, or "<number> <unit>")."""
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ParameterError(f"{where}: {raw!r} is not a number or '<number> <unit>'")
        if isinstance(raw, str):
            match = _QUANTITY.match(raw)
            if match is None:
                raise ParameterError(f"{where}: {raw!r} is not '<number> <unit>'")
            number, unit = float(match.group(1)), match.group(2) or self.unit
            try:
                value = float(_ureg().Quantity(number, unit).to(self.unit).magnitude)
            except Exception as exc:  # pint raises several kinds for unknown and incompatible units
                raise ParameterError(f"{where}: unit {unit!r} does not fit {self.unit!r} ({exc})") from None
        else:
            value = float(raw)
        if not self.low <= value <= self.high:
            raise ParameterError(
                f"{where}: {value:g} {self.unit} is outside the range "
                f"[{self.low:g}, {self.high:g}] {self.unit}"
            )
        return replace(self, value=value)


def parse_parameter(raw: Any, where: str) -> Parameter:
    if not isinstance(raw, dict) or "value" not in raw or "unit" not in raw:
        raise ParameterError(f"{where}: a parameter is {{value, unit, range, source}}")
    # ``spread`` (manufacturing spread, percent) is the profile's business, drawn per serial number
    unknown = set(raw) - {"value", "unit", "range", "source", "doc", "spread"}
    if unknown:
        raise ParameterError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    low, high = raw.get("range", [float("-inf"), float("inf")])
    source = raw.get("source", "")
    if source not in SOURCES:
        raise ParameterError(f"{where}.source: {source!r} is not one of S, R, E")
    try:
        _ureg().Unit(raw["unit"])
    except Exception:
        raise ParameterError(f"{where}.unit: {raw['unit']!r} is not a unit") from None
    base = Parameter(float("nan"), str(raw["unit"]), float(low), float(high), source, str(raw.get("doc", "")))
    return base.with_value(raw["value"], where)


def parse_section(raw: dict[str, Any], where: str) -> dict[str, Parameter]:
    return {name: parse_parameter(body, f"{where}.{name}") for name, body in raw.items()}


def si_values(parameters: dict[str, Parameter]) -> dict[str, float]:
    return {name: p.si() for name, p in parameters.items()}


def load_section(path: str | Path, section: str) -> dict[str, float]:
    """The SI values of one top-level section of a parameter file."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or section not in raw:
        raise ParameterError(f"{path}: no section {section!r}")
    return si_values(parse_section(raw[section], f"{path}: {section}"))
