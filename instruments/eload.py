"""Electronic load: sinks DC current (pack discharge, regen absorption).

Command family: Chroma 63200A, checked against the "63200A Series High Power Electronic Load Operation
& Programming Manual" (October 2024 edition; its command reference as transcribed in
EECSB/LabEquipmentController Core/CommandData/chroma-electronic-load.json) and against Chroma ATE's own
LabWindows/CVI 63200A instrument driver (psubway/t/chr63200A.c, 2015). Commands no source confirms are
marked ``unverified`` beside the command and listed in ``UNVERIFIED``.

The 63200A has no remotely programmable trip level: its ``OCP``/``OPP`` command groups configure the
OCP and OPP *test modes* (a ramp that looks for the unit under test's own trip), not a protection of
the load. ``program_protection`` therefore sends nothing; it refuses an envelope the load could
exceed, so the framework never believes a protection is in place that is not.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from instruments.base import (
    DcReadback,
    ScpiDcReadback,
    ScpiInstrument,
    Setting,
    action,
    energising,
    on_off,
    protecting,
    reading,
    setter,
)
from instruments.errors import OutOfRating


@dataclass(frozen=True)
class LoadProtection:
    bits: int

    # LOAD:PROT? bits 0-8 as the 63600 programming manual numbers them [impl:
    # pymeasure/pymeasure pymeasure/instruments/chroma/chroma_63600.py, InstrStatus]; the 63200A
    # sources give the query but no bit table of their own (unverified for the 63200A)
    NAMES = (
        "over-temperature",
        "over-voltage",
        "over-current",
        "over-power",
        "reverse-voltage",
        "sync-timeout",
        "sine-current-limit",
        "fan-failure",
        "remote-inhibit",
    )

    @property
    def tripped(self) -> bool:
        return self.bits != 0

    @property
    def reasons(self) -> list[str]:
        named = [name for i, name in enumerate(self.NAMES) if self.bits & (1 << i)]
        unnamed = self.bits >> len(self.NAMES)
        return named + ([f"undocumented bits 0x{unnamed << len(self.NAMES):x}"] if unnamed else [])


class ElectronicLoad(ScpiInstrument, DcReadback):
    """What a test may ask of an electronic load."""

    kind = "eload"
    SETTINGS: ClassVar[dict[str, str | None]] = {
        "mode": None,
        "current_setpoint_a": "current_a",
        "resistance_setpoint_ohm": "resistance_ohm",
        "power_setpoint_w": "power_w",
    }

    @action
    @abstractmethod
    def set_mode(self, mode: str) -> None: ...
    @setter("current_a")
    @abstractmethod
    def set_current(self, current_a: float) -> None: ...
    @setter("resistance_ohm")
    @abstractmethod
    def set_resistance(self, resistance_ohm: float) -> None: ...
    @setter("power_w")
    @abstractmethod
    def set_power(self, power_w: float) -> None: ...
    @protecting
    @abstractmethod
    def program_protection(self, ocp_a: float, opp_w: float) -> None: ...
    @energising
    @abstractmethod
    def load_on(self) -> None: ...
    @action
    @abstractmethod
    def load_off(self) -> None: ...
    @reading
    @abstractmethod
    def load_enabled(self) -> bool: ...
    @reading
    @abstractmethod
    def protection(self) -> LoadProtection: ...
    @protecting
    @abstractmethod
    def clear_protection(self) -> None: ...

    def _held_by_the_rating(self, ocp_a: float, opp_w: float, why: str, then: str = "") -> None:
        """A load with no trip level to program holds an envelope at or above its rating by itself;
        a tighter one is refused, ``why`` saying what the load lacks (``... sinks``), ``then`` what
        to do instead."""
        for what, value, rating in (("ocp_a", ocp_a, "current_a"), ("opp_w", opp_w, "power_w")):
            rated = self.ratings(self.model)[rating][1]
            if value < rated:
                raise OutOfRating(
                    self.name,
                    self.resource_name,
                    f"{what}={value:g} cannot be held: {why} up to its rating {rated:g}{then}",
                )


def _rating(volts: float, amps: float, watts: float) -> dict[str, tuple[float, float]]:
    return {
        "voltage_v": (0.0, volts),
        "current_a": (0.0, amps),
        "power_w": (0.0, watts),
        # unverified: no source found gives a 63200A model's CR range; the load refuses a value
        # outside its own range itself (its error queue names it)
        "resistance_ohm": (0.1, 10_000.0),
    }


class Chroma63200(ScpiDcReadback, ElectronicLoad):
    """Chroma 63200A high-power DC electronic load (one channel per frame).

    Sources, cited beside each command: [manual: ...] is the 63200A Series Operation & Programming
    Manual, October 2024 edition, by command group; [impl: chr63200A.c] is Chroma ATE's own
    LabWindows/CVI 63200A driver as kept in psubway/t/chr63200A.c.
    """

    driver = "chroma.63200"
    # model -> V, A, W: 63206A-1200-240 is the 6 kW unit of the 1200 V line (ranges 24/120/240 A)
    # [manual: specifications, as an independent 63200A model table quotes p. 31];
    # there is no 63206A-1200-200
    MODELS = {"63206A-1200-240": _rating(1200.0, 240.0, 6000.0)}
    DEFAULT_MODEL = "63206A-1200-240"
    # static modes, each with its range letter; no bare "CV": constant voltage is CVL/CVM/CVH
    # [manual: System, MODE; impl: chr63200A.c OperationalModeRangeTableEntries]
    MODES = ("CCL", "CCM", "CCH", "CRL", "CRM", "CRH", "CVL", "CVM", "CVH", "CPL", "CPM", "CPH")
    #: what no source confirms for this family: the meaning of LOAD:PROT?'s bits (the 63600's table)
    UNVERIFIED: ClassVar[tuple[str, ...]] = ("LOAD:PROT?",)

    # MODE <mode> / MODE? [manual: System, MODE; impl: chr63200A.c "MODE %s", "MODE?"]
    mode = Setting("MODE?", "MODE {}", values=MODES, parse=str, doc="operating mode and range")
    # [manual: Current, CURRent:STATic:L1; impl: chr63200A.c "CURR:STAT:L1 %f"]
    current_setpoint_a = Setting("CURR:STAT:L1?", "CURR:STAT:L1 {:.3f}", quantity="current_a")
    # [manual: Resistance, RESistance:STATic:L1; impl: chr63200A.c "RES:STAT:L1 %f"]
    resistance_setpoint_ohm = Setting("RES:STAT:L1?", "RES:STAT:L1 {:.3f}", quantity="resistance_ohm")
    # [manual: Power, POWer:STATic:L1; impl: chr63200A.c "POW:STAT:L1 %f"]
    power_setpoint_w = Setting("POW:STAT:L1?", "POW:STAT:L1 {:.1f}", quantity="power_w")

    # the base classes' spelling, both confirmed for this family: SYST:ERR? answering <code>,"<text>"
    # [manual: System, SYSTem:ERRor?; impl: chr63200A.c chr63200A_error_query] and
    # MEAS:VOLT?/CURR?/POW? [manual: Measure, MEASure:VOLTage?, :CURRent?, :POWer?]

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def set_current(self, current_a: float) -> None:
        self.current_setpoint_a = current_a

    def set_resistance(self, resistance_ohm: float) -> None:
        self.resistance_setpoint_ohm = resistance_ohm

    def set_power(self, power_w: float) -> None:
        self.power_setpoint_w = power_w

    def program_protection(self, ocp_a: float, opp_w: float) -> None:
        """Nothing to send: the 63200A has no remote trip level; its OCP and OPP commands set up test
        modes [manual: Protection, [ADVance:]OCP:... and [ADVance:]OPP:...; impl: chr63200A.c
        chr63200A_ProtectionTestResult]. The load sinks no more than its rating in a static mode, so
        an envelope at or above the rating is held by the load itself; a tighter one is refused:
        nothing on the load would hold it."""
        self._held_by_the_rating(
            ocp_a,
            opp_w,
            f"the {self.model} has no programmable trip level (its OCP/OPP commands are test modes) "
            "and sinks",
            "; set the bench envelope to the rating or add an external protection",
        )

    def load_on(self) -> None:
        # [manual: Load, LOAD[:STATe]; impl: chr63200A.c "LOAD %s" with ON/OFF]
        self.write("LOAD ON")

    def load_off(self) -> None:
        self.write("LOAD OFF")

    def load_enabled(self) -> bool:
        # answers ON or OFF [impl: chr63200A.c reads "LOAD?" against its OFF/ON table]
        return self.query_value("LOAD?", on_off)

    def protection(self) -> LoadProtection:
        # [manual: Load, LOAD:PROTection?; impl: chr63200A.c "LOAD:PROT?", 0..65535]
        return LoadProtection(self.query_value("LOAD:PROT?", int))

    def clear_protection(self) -> None:
        # [manual: Load, LOAD:PROTection:CLEar; impl: chr63200A.c "LOAD:PROT:CLE"]
        self.write("LOAD:PROT:CLE")


def _module(
    volts: float, amps: float, watts: float, ohms: tuple[float, float]
) -> dict[str, tuple[float, float]]:
    return {
        "voltage_v": (0.0, volts),
        "current_a": (0.0, amps),
        "power_w": (0.0, watts),
        "resistance_ohm": ohms,
    }


# load modules by their own ratings [impl: pymeasure/pymeasure
# pymeasure/instruments/chroma/chroma_63600.py, Chroma63630_80_60 and Chroma63610_80_20 set-point ranges]
_MODULES = {
    "63630-80-60": _module(80.0, 60.0, 300.0, (0.015, 3000.0)),
    "63610-80-20": _module(80.0, 20.0, 100.0, (0.04, 12000.0)),
}


class Chroma63600(ElectronicLoad):
    """Chroma 63600 modular DC electronic load: one load module of a 63600-x mainframe, addressed by its
    channel (a bench names the module and its channel, e.g. ``63630-80-60/CH3``).

    Every command is the one PyMeasure's 63600 driver sends, whose protocol tests hold replies of a real
    unit [impl: pymeasure/pymeasure pymeasure/instruments/chroma/chroma_63600.py and
    tests/instruments/chroma/test_chroma_63600.py; its programming guide is the 63600 Series manual
    UM-63600 v2.6]. Each is sent as ``CHAN <n>;<command>`` so that it reaches this module.
    """

    driver = "chroma.63600"
    MODELS = {
        f"{module}/CH{channel}": rating for module, rating in _MODULES.items() for channel in range(1, 11)
    }
    DEFAULT_MODEL = "63630-80-60/CH1"
    # the static modes [impl: chroma_63600.py MODES: CR has L and H only]
    MODES = ("CCL", "CCM", "CCH", "CRL", "CRH", "CVL", "CVM", "CVH", "CPL", "CPM", "CPH")
    #: what the independent driver does not send: the 63600's error queue and its protection bits
    UNVERIFIED: ClassVar[tuple[str, ...]] = ("SYST:ERR?",)

    # [impl: chroma_63600.py mode = ":MODE %s" / ":MODE?"]
    mode = Setting(":MODE?", ":MODE {}", values=MODES, parse=str, doc="operating mode and range")
    # [impl: chroma_63600.py "CURRENT:STATIC:L1 %g", "RESISTANCE:STATIC:L1 %g", "POWER:STATIC:L1 %g"]
    current_setpoint_a = Setting("CURRENT:STATIC:L1?", "CURRENT:STATIC:L1 {:g}", quantity="current_a")
    resistance_setpoint_ohm = Setting(
        "RESISTANCE:STATIC:L1?", "RESISTANCE:STATIC:L1 {:g}", quantity="resistance_ohm"
    )
    power_setpoint_w = Setting("POWER:STATIC:L1?", "POWER:STATIC:L1 {:g}", quantity="power_w")

    @property
    def _channel(self) -> int:
        return int(self.model.rsplit("/CH", 1)[1])

    def _addressed(self, command: str) -> str:
        """Channel commands go to this module [impl: chroma_63600.py insert_id "CHAN {id};{command}"];
        the 488.2 commons and the error queue are the mainframe's."""
        return (
            command
            if command.startswith("*") or command == "SYST:ERR?"
            else f"CHAN {self._channel};{command}"
        )

    def write(self, command: str) -> None:
        super().write(self._addressed(command))

    def query(self, command: str) -> str:
        return super().query(self._addressed(command))

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def set_current(self, current_a: float) -> None:
        self.current_setpoint_a = current_a

    def set_resistance(self, resistance_ohm: float) -> None:
        self.resistance_setpoint_ohm = resistance_ohm

    def set_power(self, power_w: float) -> None:
        self.power_setpoint_w = power_w

    def program_protection(self, ocp_a: float, opp_w: float) -> None:
        """Nothing to send: the independent driver programs no trip level, and none was found in a
        63600 source; a module sinks no more than its rating, so only an envelope at or above it is
        held."""
        self._held_by_the_rating(
            ocp_a, opp_w, "no programmable trip level is known for the 63600 and the module sinks"
        )

    def load_on(self) -> None:
        # [impl: chroma_63600.py enabled = "LOAD %s" with ON/OFF]
        self.write("LOAD ON")

    def load_off(self) -> None:
        self.write("LOAD OFF")

    def load_enabled(self) -> bool:
        # [impl: chroma_63600.py "LOAD?", answered ON/OFF]
        return self.query_value("LOAD?", on_off)

    def protection(self) -> LoadProtection:
        # [impl: chroma_63600.py status = "LOAD:PROTECTION?", InstrStatus bits]
        return LoadProtection(self.query_value("LOAD:PROTECTION?", int))

    def clear_protection(self) -> None:
        # [impl: chroma_63600.py protection_clear = "LOAD:PROTECTION:CLEAR"]
        self.write("LOAD:PROTECTION:CLEAR")

    def measure_voltage(self) -> float:
        # [impl: chroma_63600.py "FETCH:VOLTAGE?", "FETCH:CURRENT?", "FETCH:POWER?"]
        return self.query_value("FETCH:VOLTAGE?")

    def measure_current(self) -> float:
        return self.query_value("FETCH:CURRENT?")

    def measure_power(self) -> float:
        return self.query_value("FETCH:POWER?")
