"""The product's design figures (``specs/product.yaml``): what a scenario needs to set up a stimulus,
and what the product must say about itself: its identity over UDS and its table of DTCs.

Each figure names its unit; a reader asks for the unit it expects, so a figure given in another unit
is refused rather than misread.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hil.errors import HilError
from hil.specs import SpecError

PRODUCT_FILE = "product.yaml"
SECTIONS = ("product", "identity", "dtcs", "serial_number")
# whatever the product's pattern says, a serial number names files: it never holds a path separator,
# a leading dot or dash, or anything outside these characters
_FILE_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class SerialNumberError(HilError):
    """A serial number the product's pattern refuses; nothing was written for it."""


class Figure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    doc: str = Field(min_length=1)


class IdentityValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    doc: str = Field(min_length=1)


class SerialPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1)
    source: str = Field(pattern=r"^[SRE]$")
    doc: str = Field(min_length=1)


class ProductDtc(BaseModel):
    """What a fault must set: the J1939 SPN and FMI (J1939-73) and the lamp it lights."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spn: int = Field(ge=0, le=(1 << 19) - 1)
    fmi: int = Field(ge=0, le=31)
    lamp: Literal["amber", "red"]
    source: str = Field(pattern=r"^[SRE]$")
    doc: str = Field(min_length=1)


class Product:
    def __init__(
        self,
        figures: dict[str, Figure],
        path: str,
        identity: dict[str, IdentityValue] | None = None,
        dtcs: dict[str, ProductDtc] | None = None,
        serial_number: SerialPattern | None = None,
    ) -> None:
        self.figures = figures
        self.path = path
        self.identities = identity or {}
        self.dtcs = dtcs or {}
        self.serial_number = serial_number

    def check_serial(self, serial: str) -> str:
        """``serial`` if it matches the product's serial-number pattern; else ``SerialNumberError``."""
        if self.serial_number is None:
            raise SpecError(
                self.path, "serial_number", "missing: the pattern of the product's serial numbers"
            )
        if not isinstance(serial, str):
            raise SerialNumberError(f"serial number {serial!r}: not text")
        shown = repr(serial[:40]) + ("..." if len(serial) > 40 else "")
        if not (re.fullmatch(self.serial_number.pattern, serial) and _FILE_SAFE.fullmatch(serial)):
            raise SerialNumberError(
                f"serial number {shown}: does not match the product's pattern "
                f"{self.serial_number.pattern} ({self.path}: serial_number.pattern)"
            )
        return serial

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

    def gear_ratios(self) -> dict[int, float]:
        """The transmission's gears and their ratios (``gear_ratio_1``, ``gear_ratio_2`` ...)."""
        gears = itertools.takewhile(lambda g: f"gear_ratio_{g}" in self.figures, itertools.count(1))
        return {gear: self.value(f"gear_ratio_{gear}", "1") for gear in gears}

    def gear_of_ratio(self, ratio: float) -> int:
        """The gear whose ratio is nearest ``ratio`` (input over output speed)."""
        ratios = self.gear_ratios()
        if not ratios:
            raise SpecError(self.path, "product.gear_ratio_1", "missing: the product names no gears")
        return min(ratios, key=lambda g: abs(ratios[g] - ratio))

    def identity(self, name: str) -> str:
        """What the product reports as ``name`` (``part_number``, ``software_version`` ...)."""
        entry = self.identities.get(name)
        if entry is None:
            known = ", ".join(sorted(self.identities)) or "none"
            raise SpecError(self.path, f"identity.{name}", f"missing; known: {known}")
        return entry.value

    def dtc(self, fault: str) -> ProductDtc:
        """The DTC the product sets for ``fault`` (``cell_undervoltage``, ``command_timeout`` ...)."""
        entry = self.dtcs.get(fault)
        if entry is None:
            raise SpecError(self.path, f"dtcs.{fault}", f"missing; known: {', '.join(sorted(self.dtcs))}")
        return entry


M = TypeVar("M", bound=BaseModel)


def _section(raw: dict, section: str, model: type[M], shown: str) -> dict[str, M]:
    entries = raw.get(section, {})
    if not isinstance(entries, dict):
        raise SpecError(shown, section, "a mapping of name to its entry")
    parsed: dict[str, M] = {}
    for name, body in entries.items():
        try:
            parsed[name] = model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise SpecError(
                shown, f"{section}.{name}" + (f".{field}" if field else ""), first["msg"]
            ) from None
    return parsed


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
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise SpecError(shown, unknown[0], f"unknown section; known: {', '.join(SECTIONS)}")
    figures = _section(raw, "product", Figure, shown)
    for name, figure in figures.items():
        if not math.isfinite(figure.value):
            raise SpecError(shown, f"product.{name}.value", "not a finite number")
    identity = _section(raw, "identity", IdentityValue, shown)
    dtcs = _section(raw, "dtcs", ProductDtc, shown)
    return Product(figures, shown, identity, dtcs, _serial_pattern(raw, shown))


def _serial_pattern(raw: dict, shown: str) -> SerialPattern | None:
    if "serial_number" not in raw:
        return None
    try:
        found = SerialPattern.model_validate(raw["serial_number"])
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SpecError(shown, "serial_number" + (f".{field}" if field else ""), first["msg"]) from None
    try:
        re.compile(found.pattern)
    except re.error as exc:
        raise SpecError(shown, "serial_number.pattern", f"not a regular expression: {exc}") from None
    return found
