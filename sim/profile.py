"""Unit profiles: the golden unit, the manufacturing spread of one serial number, and the overrides
of a profile file or of ``--set path=value``.

``profile["motor"]["stator_resistance"]`` is the SI value (°C for temperatures) the physics reads;
``profile.parameters`` keeps value, unit, range and source for reports. A profile file may also say
what the unit is (``description``) and, for a defect unit, which measurements a correct suite must
fail (``expected_failures``) and which bench states it cannot reach (``blocks``: a unit whose
pre-charge never completes cannot be brought to drive_ready).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from hil.yamlfile import YamlFileError, read_yaml
from sim.ecu.identity import PART_NUMBER_LENGTH, SERIAL_NUMBER_LENGTH, SOFTWARE_VERSION_LENGTH, VIN_LENGTH
from sim.parameters import Parameter, ParameterError, parse_parameter

GOLDEN = Path(__file__).parent / "profiles" / "golden.yaml"
DEFECTS = Path(__file__).parent / "profiles" / "defects"
IDENTITY = "identity"
IDENTITY_LENGTHS = {
    "part_number": (0, PART_NUMBER_LENGTH),
    "serial_number": (0, SERIAL_NUMBER_LENGTH),
    "vin": (VIN_LENGTH, VIN_LENGTH),
    "software_version": (0, SOFTWARE_VERSION_LENGTH),
}
BENCH_STATES = frozenset({"powered", "drive_ready", "turning"})


class ProfileError(ParameterError):
    """A profile that cannot be loaded; the message names the file and the dotted path."""


@dataclass
class Profile(Mapping[str, dict[str, float]]):
    parameters: dict[str, dict[str, Parameter]]
    identity: dict[str, str]
    description: str = "golden unit"
    expected_failures: tuple[str, ...] = ()
    serial: str | None = None
    _si: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._si = {s: {n: p.si() for n, p in ps.items()} for s, ps in self.parameters.items()}

    def __getitem__(self, section: str) -> dict[str, float]:
        return self._si[section]

    def __iter__(self):
        return iter(self._si)

    def __len__(self) -> int:
        return len(self._si)

    def value(self, dotted: str) -> float:
        section, name = _split(dotted, "")
        return self._si[section][name]


def _split(dotted: str, where: str) -> tuple[str, str]:
    parts = dotted.split(".")
    if len(parts) != 2:
        raise ProfileError(f"{where}{dotted!r} is not <section>.<parameter>")
    return parts[0], parts[1]


def _golden() -> tuple[dict[str, dict[str, Parameter]], dict[str, str], dict[str, dict[str, float]]]:
    """A fresh copy of the golden unit to modify (parameters are immutable; the dicts are not)."""
    parameters, identity, spreads = _parse_golden()
    return {s: dict(ps) for s, ps in parameters.items()}, dict(identity), spreads


@cache
def _parse_golden() -> tuple[dict[str, dict[str, Parameter]], dict[str, str], dict[str, dict[str, float]]]:
    # libyaml's safe loader where PyYAML has it: the golden profile takes 0.15 s in Python, 0.02 s
    # in C, at every start of a simulated bench
    raw = yaml.load(GOLDEN.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    identity = {str(k): str(v) for k, v in raw.pop(IDENTITY).items()}
    parameters: dict[str, dict[str, Parameter]] = {}
    spreads: dict[str, dict[str, float]] = {}
    for section, body in raw.items():
        parameters[section] = {}
        for name, spec in body.items():
            spec = dict(spec)
            spread = spec.pop("spread", None)
            parameters[section][name] = parse_parameter(spec, f"{GOLDEN}: {section}.{name}")
            if spread is not None:
                spreads.setdefault(section, {})[name] = float(spread)
    return parameters, identity, spreads


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            items += _flatten(value, dotted + ".")
        else:
            items.append((dotted, value))
    return items


def _override(parameters: dict[str, dict[str, Parameter]], dotted: str, value: Any, where: str) -> None:
    section, name = _split(dotted, where)
    if section not in parameters:
        known = ", ".join(sorted(parameters))
        raise ProfileError(f"{where}unknown profile parameter {dotted!r}; known sections: {known}")
    if name not in parameters[section]:
        known = ", ".join(sorted(parameters[section]))
        raise ProfileError(f"{where}unknown profile parameter {dotted!r}; known under {section}: {known}")
    parameters[section][name] = parameters[section][name].with_value(value, f"{where}{dotted}")


def _spread(
    parameters: dict[str, dict[str, Parameter]], spreads: dict[str, dict[str, float]], serial: str
) -> None:
    """Each unit differs from the golden one as its serial number says, the same way every time."""
    rng = np.random.default_rng(zlib.crc32(serial.encode("utf-8")))
    for section in sorted(spreads):
        for name in sorted(spreads[section]):
            golden = parameters[section][name]
            factor = 1.0 + float(np.clip(rng.standard_normal(), -3.0, 3.0)) * spreads[section][name] / 100.0
            value = min(max(golden.value * factor, golden.low), golden.high)
            parameters[section][name] = replace(golden, value=value)


def _identity(identity: dict[str, str], given: Any, where: str) -> None:
    if not isinstance(given, dict):
        raise ProfileError(f"{where}identity: a mapping of field to text; known: {', '.join(identity)}")
    for key, value in given.items():
        if key not in identity:
            raise ProfileError(f"{where}unknown identity field {key!r}; known: {', '.join(identity)}")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ProfileError(f"{where}identity.{key}: {value!r} is not text")
        text = str(value)
        # what the unit reports over UDS, in a DID of fixed length
        low, high = IDENTITY_LENGTHS[key]
        if not low <= len(text) <= high or not all(" " <= c <= "~" for c in text):
            size = f"{high}" if low == high else f"at most {high}"
            raise ProfileError(
                f"{where}identity.{key}: {text[:40]!r} is not {size} printable ASCII characters"
            )
        identity[key] = text


def load_profile(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None, serial: str | None = None
) -> Profile:
    """The golden unit, spread by ``serial``, then the file at ``path`` (nested or dotted keys), then
    ``overrides`` (dotted path -> value). Units and ranges are checked; errors name file and path."""
    parameters, identity, spreads = _golden()
    if serial:
        if (
            not isinstance(serial, str)
            or not 0 < len(serial) <= SERIAL_NUMBER_LENGTH
            or not serial.isprintable()
            or not serial.isascii()
        ):
            raise ProfileError(
                f"serial number {str(serial)[:40]!r}: not 1 to {SERIAL_NUMBER_LENGTH} "
                "printable ASCII characters (UDS F18C)"
            )
        _spread(parameters, spreads, serial)
    description, expected = "golden unit", ()
    if path is not None:
        where = f"{path}: "
        try:
            overlay = read_yaml(path) or {}
        except YamlFileError as exc:
            raise ProfileError(f"{where}cannot read the profile: {exc}") from None
        if not isinstance(overlay, dict):
            raise ProfileError(f"{where}a profile is a mapping of parameters")
        description = overlay.pop("description", Path(path).stem)
        if not isinstance(description, str):
            raise ProfileError(f"{where}description: text")
        expected = overlay.pop("expected_failures", [])
        if not isinstance(expected, list) or not all(isinstance(e, str) for e in expected):
            raise ProfileError(f"{where}expected_failures: a list of measurement names")
        blocks = overlay.pop("blocks", [])
        if not isinstance(blocks, list) or not all(isinstance(b, str) and b in BENCH_STATES for b in blocks):
            raise ProfileError(f"{where}blocks: a list of bench states, of {', '.join(sorted(BENCH_STATES))}")
        _identity(identity, overlay.pop(IDENTITY, None) or {}, where)
        for dotted, value in _flatten(overlay):
            _override(parameters, dotted, value, where)
    for dotted, value in (overrides or {}).items():
        _override(parameters, dotted, value, "")
    return Profile(parameters, identity, description, tuple(expected), serial)


def defect_profiles() -> list[Path]:
    return sorted(DEFECTS.glob("*.yaml"))
