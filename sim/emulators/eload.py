"""Chroma 63200A DC electronic load, as its SCPI firmware answers: the commands of the 63200A
programming manual the driver uses, and nothing the manual does not have (an unknown header is
-113 "Undefined header" on the error queue, read with SYST:ERR?).

There is no programmable trip level: ``CURR:PROT``/``POW:PROT`` are not 63200A headers, and the
load's own OCP/OPP levels are fixed (``sim.plant.eload``)."""

from __future__ import annotations

from typing import Any

from sim.emulators.base import ScpiEmulator
from sim.plant.eload import LoadModel, LoadRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError, format_number

# the static modes with their range letters [manual: 63200A Operation & Programming Manual, Oct 2024,
# MODE]; the dynamic, battery, sweep, OCP/OPP-test and program modes the manual also lists are not
# emulated and refused as illegal values [E]
MODES = ("CCL", "CCM", "CCH", "CRL", "CRM", "CRH", "CVL", "CVM", "CVH", "CPL", "CPM", "CPH")


def on_off_word(value: bool) -> str:
    """LOAD? and LOAD:SHOR? answer ON or OFF [impl: psubway/t/chr63200A.c reads them against an
    OFF/ON table]."""
    return "ON" if value else "OFF"


class Chroma63200Emulator(ScpiEmulator):
    driver = "chroma.63200"
    kind = "eload"
    plant_slot = "eload"
    DEFAULT_MODEL = "63206A-1200-240"
    # *IDN? as <manufacturer>,<model>,<serial>,<firmware> (IEEE 488.2); the 63200A sources give no
    # example reply, so the manufacturer's spelling is unverified
    manufacturer = "Chroma ATE"
    firmware = "2.10-SIM"
    MODELS = {"63206A-1200-240": LoadRating(1200.0, 240.0, 6000.0, (0.1, 10_000.0))}
    physics: LoadModel

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        return LoadModel(cls.rating_of(model))

    def reset(self) -> None:
        self.physics.reset()

    def register(self, engine: ScpiEngine) -> None:
        m, r = self.physics, self.rating

        def setter(attribute: str, unit: str, limits: tuple[float, float]) -> Any:
            def apply(call: Call) -> None:
                setattr(m, attribute, call.number(0, unit, limits))

            return apply

        def getter(attribute: str) -> Any:
            return lambda _: format_number(getattr(m, attribute))

        def set_mode(call: Call) -> None:
            m.mode = call.choice(0, MODES)

        def set_load(call: Call) -> None:
            on = call.boolean(0)
            if on and m.tripped:
                raise ScpiError(-221, "protection tripped; send LOAD:PROT:CLE first")
            m.input_on = on

        def set_short(call: Call) -> None:
            m.short = call.boolean(0)

        def clear_protection(_: Call) -> None:
            m.tripped = 0

        engine.add("MODE", set_mode, lambda _: m.mode)
        for level in ("L1", "L2"):
            # L2 is the second level of the dynamic modes; the static modes run on L1
            engine.add(
                f"CURRent:STATic:{level}",
                setter("current_set_a", "A", (0.0, r.current_a)),
                getter("current_set_a"),
            )
            engine.add(
                f"RESistance:STATic:{level}",
                setter("resistance_set_ohm", "OHM", r.resistance_ohm),
                getter("resistance_set_ohm"),
            )
            engine.add(
                f"VOLTage:STATic:{level}",
                setter("voltage_set_v", "V", (0.0, r.voltage_v)),
                getter("voltage_set_v"),
            )
            engine.add(
                f"POWer:STATic:{level}", setter("power_set_w", "W", (0.0, r.power_w)), getter("power_set_w")
            )
        engine.add("LOAD[:STATe]", set_load, lambda _: on_off_word(m.input_on))
        engine.add("LOAD:SHORt[:STATe]", set_short, lambda _: on_off_word(m.short))
        engine.add("LOAD:PROTection?", getter=lambda _: str(m.tripped))
        engine.add("LOAD:PROTection:CLEar", clear_protection)
        for root in ("MEASure", "FETCh"):
            engine.add(f"{root}:VOLTage?", getter=getter("voltage_v"))
            engine.add(f"{root}:CURRent?", getter=getter("current_a"))
            engine.add(f"{root}:POWer?", getter=lambda _: format_number(m.voltage_v * m.current_a))
