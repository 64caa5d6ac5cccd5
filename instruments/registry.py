"""Drivers by name, as bench files name them (``driver: itech.it6000c``)."""

from __future__ import annotations

from instruments.analyzer import WT5000
from instruments.base import Instrument
from instruments.cellsim import Chroma87001
from instruments.dyno import DSP7000
from instruments.eload import Chroma63200
from instruments.isofault import Keysight34980A
from instruments.supply import IT6000C
from instruments.tempsim import Prs202

DRIVERS: dict[str, type[Instrument]] = {
    cls.driver: cls for cls in (IT6000C, Chroma87001, Chroma63200, DSP7000, WT5000, Prs202, Keysight34980A)
}


def driver_class(name: str) -> type[Instrument]:
    try:
        return DRIVERS[name]
    except KeyError:
        raise KeyError(f"unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}") from None
