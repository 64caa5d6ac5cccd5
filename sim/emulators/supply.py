"""ITECH IT6000C bidirectional supply, as its SCPI firmware answers (reference §6.2)."""

from __future__ import annotations

from typing import Any

from sim.emulators.base import ScpiEmulator, on_off
from sim.plant.supply import SupplyModel, SupplyRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError, format_number


class It6000cEmulator(ScpiEmulator):
    driver = "itech.it6000c"
    kind = "supply"
    plant_slot = "supply"
    DEFAULT_MODEL = "IT6054C-800-340"
    manufacturer = "ITECH"
    firmware = "1.07-SIM"
    MODELS = {
        "IT6018C-800-75": SupplyRating(800.0, 75.0, 75.0, 18_000.0, 8000.0),
        "IT6036C-1500-60": SupplyRating(1500.0, 60.0, 60.0, 36_000.0, 15_000.0),
        "IT6054C-800-340": SupplyRating(800.0, 340.0, 340.0, 54_000.0, 8000.0),
        # five of them in master/slave parallel, answering as one (instruments/supply.py)
        "IT6054C-800-340-P5": SupplyRating(800.0, 1700.0, 1700.0, 270_000.0, 8000.0),
    }
    physics: SupplyModel

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        return SupplyModel(cls.rating_of(model))

    def reset(self) -> None:
        self.physics.reset()

    def register(self, engine: ScpiEngine) -> None:
        s, r = self.physics, self.rating
        volts, amps = (0.0, r.voltage_v), (0.0, r.current_a)
        slew_v_per_ms = (r.slew_v_per_s / 1e6, r.slew_v_per_s / 1000.0)

        def set_voltage(call: Call) -> None:
            s.setpoint_v = call.number(0, "V", volts)

        def set_source_limit(call: Call) -> None:
            s.source_limit_a = call.number(0, "A", amps)

        def set_sink_limit(call: Call) -> None:
            # the sink limit is programmed as a negative current
            s.sink_limit_a = -call.number(0, "A", (-r.sink_current_a, 0.0))

        def set_slew(call: Call) -> None:
            s.slew_v_per_s = call.number(0, "", slew_v_per_ms) * 1000.0

        def set_ovp(call: Call) -> None:
            s.ovp_v = call.number(0, "V", (0.0, 1.1 * r.voltage_v))

        def set_ovp_state(call: Call) -> None:
            s.ovp_enabled = call.boolean(0)

        def set_ocp(call: Call) -> None:
            s.ocp_a = call.number(0, "A", (0.0, 1.1 * max(r.current_a, r.sink_current_a)))

        def set_ocp_state(call: Call) -> None:
            s.ocp_enabled = call.boolean(0)

        def set_output(call: Call) -> None:
            on = call.boolean(0)
            if on and s.tripped:
                raise ScpiError(-221, "protection tripped; send PROT:CLE first")
            if on and not s.output_on:
                s.switch_on(s.voltage_v)
            elif not on:
                s.output_on = False

        def clear_protection(_: Call) -> None:
            s.tripped = 0

        def number(value: Any) -> Any:
            return lambda _: format_number(value())

        engine.add(
            "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", set_voltage, number(lambda: s.setpoint_v)
        )
        engine.add(
            "[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]",
            set_source_limit,
            number(lambda: s.source_limit_a),
        )
        engine.add("[SOURce:]CURRent:LIMit[:POSitive]", set_source_limit, number(lambda: s.source_limit_a))
        engine.add("[SOURce:]CURRent:LIMit:NEGative", set_sink_limit, number(lambda: -s.sink_limit_a))
        engine.add("[SOURce:]VOLTage:SLEW[:BOTH]", set_slew, number(lambda: s.slew_v_per_s / 1000.0))
        engine.add("[SOURce:]VOLTage:OVER:PROTection[:LEVel]", set_ovp, number(lambda: s.ovp_v))
        engine.add("[SOURce:]VOLTage:OVER:PROTection:STATe", set_ovp_state, lambda _: on_off(s.ovp_enabled))
        engine.add("[SOURce:]CURRent:OVER:PROTection[:LEVel]", set_ocp, number(lambda: s.ocp_a))
        engine.add("[SOURce:]CURRent:OVER:PROTection:STATe", set_ocp_state, lambda _: on_off(s.ocp_enabled))
        engine.add("OUTPut[:STATe]", set_output, lambda _: on_off(s.output_on))
        engine.add("[OUTPut:]PROTection:CLEar", clear_protection)
        for root in ("MEASure", "FETCh"):
            engine.add(f"{root}[:SCALar]:VOLTage[:DC]?", getter=number(lambda: s.voltage_v))
            engine.add(f"{root}[:SCALar]:CURRent[:DC]?", getter=number(lambda: s.current_a))
            engine.add(f"{root}[:SCALar]:POWer[:DC]?", getter=number(lambda: s.voltage_v * s.current_a))
        engine.add("STATus:QUEStionable:CONDition?", getter=lambda _: str(s.tripped))
