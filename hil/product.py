"""The product's design figures (``specs/product.yaml``): what a scenario needs to set up a stimulus.

Each figure names its unit; a reader asks for the unit it expects, so a figure given in another unit
is refused rather than misread.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hil.specs import SpecError

PRODUCT_FILE = "product.yaml"


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    doc: str = Field(min_length=1)


class Product:
    def __init__(self, figures: dict[str, Figure], path: str) -> None:
        self.figures = figures
        self.path = path

    def value(self, name: str, unit: str) -> float:
        """The figure ``name`` in ``unit``; a missing figure or another unit is an error naming both."""
        figure = self.figures.get(name)
        if figure is None:
            raise SpecError(
                self.path, f"product.{name}", f"missing; known: {', '.join(sorted(self.figures))}"
            )
        if figure.unit != unit:
            raise SpecError(
                self.path, f"product.{name}.unit", f"is {figure.unit!r}, the scenario reads {unit!r}"
            )
        return figure.value


def load_product(directory: str | Path) -> Product:
    path = Path(directory) / PRODUCT_FILE
    shown = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SpecError(shown, "", "missing: the product's design figures") from None
    except yaml.YAMLError as exc:
        raise SpecError(shown, "", f"not valid YAML: {exc}") from None
    entries = raw.get("product") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise SpecError(shown, "product", "missing: a mapping of figure name to value, unit, source, doc")
    figures: dict[str, Figure] = {}
    for name, body in entries.items():
        try:
            figures[name] = Figure.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise SpecError(shown, f"product.{name}" + (f".{field}" if field else ""), first["msg"]) from None
        if not math.isfinite(figures[name].value):
            raise SpecError(shown, f"product.{name}.value", "not a finite number")
    return Product(figures, shown)
