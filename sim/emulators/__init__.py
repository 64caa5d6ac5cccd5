"""One emulator per instrument driver, found by the driver name a bench file gives."""

from __future__ import annotations

from sim.emulators.analyzer import Wt5000Emulator
from sim.emulators.base import Emulator
from sim.emulators.cellsim import Chroma87001Emulator
from sim.emulators.dyno import Dsp7000Emulator
from sim.emulators.eload import Chroma63200Emulator
from sim.emulators.isofault import Keysight34980AEmulator
from sim.emulators.supply import It6000cEmulator
from sim.emulators.tempsim import Prs202Emulator

EMULATORS: dict[str, type[Emulator]] = {
    cls.driver: cls
    for cls in (
        It6000cEmulator,
        Chroma87001Emulator,
        Chroma63200Emulator,
        Dsp7000Emulator,
        Wt5000Emulator,
        Prs202Emulator,
        Keysight34980AEmulator,
    )
}


def emulator_class(driver: str) -> type[Emulator]:
    try:
        return EMULATORS[driver]
    except KeyError:
        known = ", ".join(sorted(EMULATORS))
        raise ValueError(
            f"the simulated bench has no emulator for driver {driver!r}; known: {known}"
        ) from None
