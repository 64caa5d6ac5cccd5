"""Chroma 87001 cell simulator, as its SCPI firmware answers: every setting and reading takes a
channel list ``(@1:24)``, all channels when it is left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.emulators.base import ScpiEmulator
from sim.plant.cells import CellBank, CellRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, format_numbers


class Chroma87001Emulator(ScpiEmulator):
    driver = "chroma.87001"
    kind = "cellsim"
    plant_slot = "cells"
    DEFAULT_MODEL = "87001-24"
    manufacturer = "Chroma ATE"
    firmware = "1.30-SIM"
    MODELS = {
        "87001-24": CellRating(24, 5.0, 5.0),
        "87001-12": CellRating(12, 5.0, 5.0),
    }
    physics: CellBank

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        cells = profile["cells"]
        return CellBank(
            cls.rating_of(model), float(cells["default_voltage_v"]), float(cells["quiescent_current_a"])
        )

    def reset(self) -> None:
        self.physics.reset()

    def register(self, engine: ScpiEngine) -> None:
        bank, r = self.physics, self.rating
        n = r.channels

        def per_channel(attribute: str, unit: str, limits: tuple[float, float]) -> Callable[[Call], None]:
            def apply(call: Call) -> None:
                value = call.number(0, unit, limits)
                values = getattr(bank, attribute)
                for channel in call.channels(1, n):
                    values[channel - 1] = value

            return apply

        def read(values: Callable[[], list[float]]) -> Callable[[Call], str]:
            return lambda call: format_numbers(values()[c - 1] for c in call.channels(0, n))

        def set_output(call: Call) -> None:
            on = call.boolean(0)
            for channel in call.channels(1, n):
                # a tripped channel stays open until its protection is cleared
                bank.output_on[channel - 1] = on and not bank.tripped[channel - 1]

        def clear_protection(call: Call) -> None:
            for channel in call.channels(0, n):
                bank.tripped[channel - 1] = False

        volts, amps = (0.0, r.voltage_v), (0.0, r.current_a)
        engine.add(
            "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]",
            per_channel("voltage_set_v", "V", volts),
            read(lambda: bank.voltage_set_v),
        )
        engine.add(
            "[SOURce:]CURRent:LIMit",
            per_channel("current_limit_a", "A", amps),
            read(lambda: bank.current_limit_a),
        )
        engine.add(
            "[SOURce:]VOLTage:PROTection[:LEVel]", per_channel("ovp_v", "V", volts), read(lambda: bank.ovp_v)
        )
        engine.add(
            "[SOURce:]CURRent:PROTection[:LEVel]", per_channel("ocp_a", "A", amps), read(lambda: bank.ocp_a)
        )
        engine.add("OUTPut[:STATe]", set_output, read(lambda: [float(on) for on in bank.output_on]))
        engine.add("OUTPut:PROTection:TRIPped?", getter=read(lambda: [float(t) for t in bank.tripped]))
        engine.add("[OUTPut:]PROTection:CLEar", clear_protection)
        for root in ("MEASure", "FETCh"):
            engine.add(f"{root}:VOLTage?", getter=read(bank.voltages))
            engine.add(f"{root}:CURRent?", getter=read(bank.currents))
