"""Chroma 63200 DC electronic load, as its SCPI firmware answers (reference §6.3)."""

from __future__ import annotations

from typing import Any

from sim.emulators.base import ScpiEmulator, on_off
from sim.plant.eload import LoadModel, LoadRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError, format_number

# static modes only; the dynamic CCD*/CRD* modes are not emulated [E]
MODES = ("CCL", "CCM", "CCH", "CRL", "CRM", "CRH", "CV", "CPL", "CPM", "CPH")


class Chroma63200Emulator(ScpiEmulator):
    driver = "chroma.63200"
    kind = "eload"
    plant_slot = "eload"
    DEFAULT_MODEL = "63210A-1200-240"
    manufacturer = "Chroma ATE"
    firmware = "2.10-SIM"
    MODELS = {
        "63206A-1200-200": LoadRating(1200.0, 200.0, 6000.0, (0.1, 10_000.0)),
        "63210A-1200-240": LoadRating(1200.0, 240.0, 10_000.0, (0.1, 10_000.0)),
    }
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
        engine.add(
            "CURRent:PROTection[:LEVel]", setter("ocp_a", "A", (0.0, 1.1 * r.current_a)), getter("ocp_a")
        )
        engine.add("POWer:PROTection[:LEVel]", setter("opp_w", "W", (0.0, 1.1 * r.power_w)), getter("opp_w"))
        engine.add("LOAD[:STATe]", set_load, lambda _: on_off(m.input_on))
        engine.add("LOAD:SHORt[:STATe]", set_short, lambda _: on_off(m.short))
        engine.add("LOAD:PROTection?", getter=lambda _: str(m.tripped))
        engine.add("LOAD:PROTection:CLEar", clear_protection)
        for root in ("MEASure", "FETCh"):
            engine.add(f"{root}:VOLTage?", getter=getter("voltage_v"))
            engine.add(f"{root}:CURRent?", getter=getter("current_a"))
            engine.add(f"{root}:POWer?", getter=lambda _: format_number(m.voltage_v * m.current_a))
