"""Limits as data: every measurement's low/high, unit, marginal band, clause and source tag.

Source tags follow the domain reference: S stated in a public source, R recalled from a standard or
datasheet (to be checked before it certifies anything), E engineering estimate (placeholder).
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hil.errors import HilError
from hil.yamlfile import YamlFileError, read_yaml


class SpecError(HilError):
    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"{path}: {field}: {message}" if field else f"{path}: {message}")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    file: str = ""  # the specs file that holds it, for links to the clause
    unit: str
    # strict: `true` is not a limit; NaN compares false with everything and would pass every value
    low: float = Field(default=-math.inf, strict=True, allow_inf_nan=True)
    high: float = Field(default=math.inf, strict=True, allow_inf_nan=True)
    marginal: float = Field(default=0.0, ge=0, strict=True, allow_inf_nan=False)
    clause: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Spec:
        if math.isnan(self.low) or math.isnan(self.high):
            raise ValueError("a limit is NaN")
        if self.low == math.inf or self.high == -math.inf:
            raise ValueError("a limit no value can meet (low +inf or high -inf)")
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if math.isinf(self.low) and math.isinf(self.high):
            raise ValueError("needs a low or a high limit")
        return self

    def limits_text(self) -> str:
        return limits_text(self.low, self.high, self.unit)


def limits_text(low: float, high: float, unit: str) -> str:
    """Limits as the run's output and its reports print them; an infinite limit is an open end."""
    shown_low = "" if math.isinf(low) else f"{low:g}"
    shown_high = "" if math.isinf(high) else f"{high:g}"
    if shown_low and shown_high:
        return f"[{shown_low}, {shown_high}] {unit}".rstrip()
    if shown_low or shown_high:
        return (f">= {shown_low} {unit}" if shown_low else f"<= {shown_high} {unit}").rstrip()
    return "none"


def load_specs(directory: str | Path) -> dict[str, Spec]:
    """All ``*.yaml`` under ``directory``: ``measurements: {name: {unit, low, high, ...}}``."""
    specs: dict[str, Spec] = {}
    for path in sorted(Path(directory).glob("**/*.yaml")):
        shown = str(path)
        try:
            raw = read_yaml(path) or {}
        except YamlFileError as exc:
            raise SpecError(shown, exc.where, exc.message) from None
        if isinstance(raw, dict) and "product" in raw and "measurements" not in raw:
            continue  # the product's design figures (hil.product), not limits
        entries = raw.get("measurements") if isinstance(raw, dict) else None
        if not isinstance(entries, dict):
            raise SpecError(shown, "measurements", "missing: a mapping of measurement name to its limits")
        for name, body in entries.items():
            if not isinstance(name, str):
                raise SpecError(shown, f"measurements.{name!r}", "a measurement's name is text")
            if name in specs:
                raise SpecError(shown, f"measurements.{name}", "defined twice")
            if not isinstance(body, dict):
                raise SpecError(shown, f"measurements.{name}", "expected a mapping")
            try:
                specs[name] = Spec.model_validate({**body, "name": name, "file": path.name})
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                where = f"measurements.{name}" + (f".{field}" if field else "")
                raise SpecError(shown, where, first["msg"].removeprefix("Value error, ")) from None
    return specs
