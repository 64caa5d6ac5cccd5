"""ITECH IT6000C bidirectional supply, as its SCPI firmware answers.

Commands, defaults and status bits follow a transcription of ITECH's regenerative-supply programming
guide [impl: chenbei97/30kW-SourceLoad/core/spic_command.h] and a driver proven on a real
IT6054C-800-225 with its dated log [impl: VlasovLabTech/OpenBench-lab-control, drivers/itech_it6000c
and docs/itech-it6054c-live-test-2026-08-13.md]; what neither says is marked [E].
"""

from __future__ import annotations

from typing import Any

from sim.emulators.base import ScpiEmulator, on_off
from sim.plant.supply import DEFAULT_SLEW_S, SupplyModel, SupplyRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError, format_number

#: VOLT:SLEW's range, s [E: the range an independent driver lets through (0.001 to 2000); the
#: programming guide's MIN and MAX are not in the sources found]
SLEW_S = (0.001, 2000.0)
#: FUNC? as the unit answers [live: the test transport's "VOLTage"; parse_priority reads VOLT/CURR]
PRIORITY_REPLY = {"VOLTAGE": "VOLTage", "CURRENT": "CURRent"}


class It6000cEmulator(ScpiEmulator):
    driver = "itech.it6000c"
    kind = "supply"
    plant_slot = "supply"
    DEFAULT_MODEL = "IT6054C-800-225"
    # *IDN? as the real unit answers it: six fields, three firmware versions [live log: "ITECH
    # Electronics,IT6054C-800-225,<serial>,000.006.101,640.R,132.R"]
    manufacturer = "ITECH Electronics"
    firmware = "000.006.101,640.R,132.R"
    MODELS = {
        # the programmable maxima of a real IT6054C-800-225 (instruments/supply.py)
        "IT6054C-800-225": SupplyRating(808.0, 227.25, 227.25, 55_080.0),
        # five of them in master/slave parallel, answering as one (instruments/supply.py)
        "IT6054C-800-225-P5": SupplyRating(808.0, 1136.25, 1136.25, 275_400.0),
    }
    physics: SupplyModel

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        return SupplyModel(cls.rating_of(model))

    def reset(self) -> None:
        self.physics.reset()
        self.priority = "VOLTAGE"
        self.cc_setpoint_a = 0.0
        self.voltage_limits_v = [self.rating.voltage_v, 0.0]

    def register(self, engine: ScpiEngine) -> None:
        s, r = self.physics, self.rating
        self.reset()
        volts, amps = (0.0, r.voltage_v), (0.0, r.current_a)

        def in_priority(priority: str, header: str) -> None:
            # CURR:LIM is writable only in CV priority, VOLT:LIM only in CC [live: "VOLT:LIM is
            # writable in CC priority and CURR:LIM in CV priority"]; the error the unit queues is not
            # recorded [E: SCPI's settings conflict]
            if self.priority != priority:
                wanted = "FUNC VOLT" if priority == "VOLTAGE" else "FUNC CURR"
                raise ScpiError(-221, f"{header} needs {wanted}")

        def set_priority(call: Call) -> None:
            # the plant regulates in CV only: CC priority is kept for the commands it gates [E]
            self.priority = call.choice(0, ("VOLTage", "CURRent"))

        def set_voltage(call: Call) -> None:
            s.setpoint_v = call.number(0, "V", volts)

        def set_cc_setpoint(call: Call) -> None:
            self.cc_setpoint_a = call.number(0, "A", (-r.sink_current_a, r.current_a))

        def cc_setpoint(_: Call) -> str:
            # CURR? reads the source limit in CV priority [live: "CURR? mirrors CURR:LIM? in CV"]
            return format_number(s.source_limit_a if self.priority == "VOLTAGE" else self.cc_setpoint_a)

        def set_source_limit(call: Call) -> None:
            in_priority("VOLTAGE", "CURR:LIM")
            s.source_limit_a = call.number(0, "A", amps)

        def set_sink_limit(call: Call) -> None:
            in_priority("VOLTAGE", "CURR:LIM:NEG")
            # the sink limit is programmed as a negative current [live: -2.27]
            s.sink_limit_a = -call.number(0, "A", (-r.sink_current_a, 0.0))

        def set_voltage_limit(index: int) -> Any:
            def handler(call: Call) -> None:
                in_priority("CURRENT", "VOLT:LIM")
                self.voltage_limits_v[index] = call.number(0, "V", volts)

            return handler

        def slew_time(call: Call) -> float:
            if call.text(0).strip().upper() in ("DEF", "DEFAULT"):
                return DEFAULT_SLEW_S
            return call.number(0, "S", SLEW_S)

        def set_slew(rise: bool, fall: bool) -> Any:
            # VOLT:SLEW sets the rise and fall times together, :POS and :NEG one each, in seconds
            # [guide: "SOUR:VOLT:SLEW 0.1", DEF 0.1 s]
            def handler(call: Call) -> None:
                seconds = slew_time(call)
                if rise:
                    s.rise_s = seconds
                if fall:
                    s.fall_s = seconds

            return handler

        def set_ovp(call: Call) -> None:
            s.ovp_v = call.number(0, "V", volts)

        def set_ovp_state(call: Call) -> None:
            s.ovp_enabled = call.boolean(0)

        def set_ocp(call: Call) -> None:
            s.ocp_a = call.number(0, "A", (0.0, max(r.current_a, r.sink_current_a)))

        def set_ocp_state(call: Call) -> None:
            s.ocp_enabled = call.boolean(0)

        def set_output(call: Call) -> None:
            on = call.boolean(0)
            if on and s.tripped:
                # [E: the unit's behaviour with a protection latched; the output stays off]
                raise ScpiError(-221, "protection latched; send OUTP:PROT:CLE first")
            if on and not s.output_on:
                s.switch_on(s.voltage_v)
            elif not on:
                s.output_on = False

        def clear_protection(_: Call) -> None:
            s.tripped = 0

        def number(value: Any) -> Any:
            return lambda _: format_number(value())

        engine.add("[SOURce:]FUNCtion", set_priority, lambda _: PRIORITY_REPLY[self.priority])
        engine.add(
            "[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", set_voltage, number(lambda: s.setpoint_v)
        )
        engine.add("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", set_cc_setpoint, cc_setpoint)
        engine.add("[SOURce:]CURRent:LIMit[:POSitive]", set_source_limit, number(lambda: s.source_limit_a))
        engine.add("[SOURce:]CURRent:LIMit:NEGative", set_sink_limit, number(lambda: -s.sink_limit_a))
        engine.add(
            "[SOURce:]VOLTage:LIMit[:POSitive]",
            set_voltage_limit(0),
            number(lambda: self.voltage_limits_v[0]),
        )
        engine.add(
            "[SOURce:]VOLTage:LIMit:NEGative", set_voltage_limit(1), number(lambda: self.voltage_limits_v[1])
        )
        engine.add("[SOURce:]VOLTage:SLEW[:BOTH]", set_slew(True, True), number(lambda: s.rise_s))
        engine.add("[SOURce:]VOLTage:SLEW:POSitive", set_slew(True, False), number(lambda: s.rise_s))
        engine.add("[SOURce:]VOLTage:SLEW:NEGative", set_slew(False, True), number(lambda: s.fall_s))
        # no OVER node for the voltage protection in the guide [guide: SOUR:VOLT:PROT]
        engine.add("[SOURce:]VOLTage:PROTection[:LEVel]", set_ovp, number(lambda: s.ovp_v))
        engine.add("[SOURce:]VOLTage:PROTection:STATe", set_ovp_state, lambda _: on_off(s.ovp_enabled))
        # the current one also takes an OVER node [impl: an IT6000C script's
        # SOURce:CURRent:OVER:PROTection:STATe; the IT-M3400 guide's CURRent[:OVER]:PROTection]
        engine.add("[SOURce:]CURRent[:OVER]:PROTection[:LEVel]", set_ocp, number(lambda: s.ocp_a))
        engine.add("[SOURce:]CURRent[:OVER]:PROTection:STATe", set_ocp_state, lambda _: on_off(s.ocp_enabled))
        engine.add("OUTPut[:STATe]", set_output, lambda _: on_off(s.output_on))
        engine.add("OUTPut:PROTection:CLEar", clear_protection)
        for root in ("MEASure", "FETCh"):
            engine.add(f"{root}[:SCALar]:VOLTage[:DC]?", getter=number(lambda: s.voltage_v))
            engine.add(f"{root}[:SCALar]:CURRent[:DC]?", getter=number(lambda: s.current_a))
            engine.add(f"{root}[:SCALar]:POWer[:DC]?", getter=number(lambda: s.voltage_v * s.current_a))
        # the latched protections and faults, all 15 documented bits (sim/plant/supply.py)
        engine.add("STATus:QUEStionable:CONDition?", getter=lambda _: str(s.tripped))
