"""Unit profiles: the golden parameters, overlaid by a profile file and by dotted-path overrides."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

Profile = dict[str, Any]
GOLDEN = Path(__file__).parent / "profiles" / "golden.yaml"


class ProfileError(ValueError):
    pass


def golden() -> Profile:
    return yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))


def load_profile(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Profile:
    """The golden profile with the file at ``path`` (nested or dotted keys) and then ``overrides``
    (dotted path -> value) applied; every path must name a golden parameter."""
    profile = golden()
    if path is not None:
        text = Path(path).read_text(encoding="utf-8")
        overlay = yaml.safe_load(text) or {}
        if not isinstance(overlay, dict):
            raise ProfileError(f"{path}: a profile is a mapping of parameters")
        for dotted, value in _flatten(overlay):
            _set(profile, dotted, value, f"{path}: ")
    for dotted, value in (overrides or {}).items():
        _set(profile, dotted, value, "")
    return profile


def parameter(profile: Profile, dotted: str) -> Any:
    node: Any = profile
    for key in dotted.split("."):
        node = node[key]
    return node


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            items += _flatten(value, dotted + ".")
        else:
            items.append((dotted, value))
    return items


def _set(profile: Profile, dotted: str, value: Any, where: str) -> None:
    node: Any = profile
    keys = dotted.split(".")
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "none: it is a value"
            parent = ".".join(keys[:depth]) or "the profile"
            raise ProfileError(f"{where}unknown profile parameter {dotted!r}; known under {parent}: {known}")
        if depth == len(keys) - 1:
            old = node[key]
            if isinstance(old, dict):
                raise ProfileError(f"{where}{dotted!r} is a group, not a parameter")
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if isinstance(old, int | float) and not number:
                raise ProfileError(f"{where}{dotted}={value!r}: expected a number like {old!r}")
            node[key] = copy.deepcopy(value)
        node = node[key]
