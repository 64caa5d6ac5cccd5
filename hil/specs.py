"""Limits as data: every measurement's low/high, unit, marginal band, clause and source tag.

Source tags follow the domain reference: S stated in a public source, R recalled from a standard or
datasheet (to be checked before it certifies anything), E engineering estimate (placeholder).
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hil.errors import HilError


class SpecError(HilError):
    def __init__(self, path: str, field: str, message: str) -> None:
        super().__init__(f"{path}: {field}: {message}" if field else f"{path}: {message}")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    file: str = ""  # the specs file that holds it, for links to the clause
    unit: str
    low: float = -math.inf
    high: float = math.inf
    marginal: float = Field(default=0.0, ge=0)
    clause: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Spec:
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if math.isinf(self.low) and math.isinf(self.high):
            raise ValueError("needs a low or a high limit")
        return self

    def limits_text(self) -> str:
        low = "" if math.isinf(self.low) else f"{self.low:g}"
        high = "" if math.isinf(self.high) else f"{self.high:g}"
        if low and high:
            return f"[{low}, {high}] {self.unit}"
        return f">= {low} {self.unit}" if low else f"<= {high} {self.unit}"


def load_specs(directory: str | Path) -> dict[str, Spec]:
    """All ``*.yaml`` under ``directory``: ``measurements: {name: {unit, low, high, ...}}``."""
    specs: dict[str, Spec] = {}
    for path in sorted(Path(directory).glob("**/*.yaml")):
        shown = str(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SpecError(shown, "", f"not valid YAML: {exc}") from None
        if isinstance(raw, dict) and "product" in raw and "measurements" not in raw:
            continue  # the product's design figures (hil.product), not limits
        entries = raw.get("measurements") if isinstance(raw, dict) else None
        if not isinstance(entries, dict):
            raise SpecError(shown, "measurements", "missing: a mapping of measurement name to its limits")
        for name, body in entries.items():
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
