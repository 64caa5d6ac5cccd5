"""The golden unit's drive parameters: ``sim/profiles/golden.yaml`` as SI sections."""

from __future__ import annotations

from pathlib import Path

from sim.parameters import load_section

GOLDEN_PATH = Path(__file__).resolve().parent.parent / "profiles" / "golden.yaml"
SECTIONS = ("motor", "inverter", "protection")


def golden_sections(path: Path = GOLDEN_PATH) -> dict[str, dict[str, float]]:
    """{"motor": …, "inverter": …, "protection": …} in SI (temperatures in °C)."""
    return {name: load_section(path, name) for name in SECTIONS}
