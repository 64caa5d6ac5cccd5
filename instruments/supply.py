"""Bidirectional DC supply (HV bus source / battery emulator that absorbs regen).

Command family: ITECH IT6000C [S: IT6000C python class in drive-domain.md §6.2]; the over-voltage
protection and slew headers follow the family by analogy [R: confirm with the programming manual].
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


@dataclass(frozen=True)
class SupplyProtection:
    over_voltage: bool
    over_current: bool

    @property
    def tripped(self) -> bool:
        return self.over_voltage or self.over_current


class DcSupply(ScpiInstrument, DcReadback):
    """What a test may ask of a bidirectional DC supply."""

    kind = "supply"
    SETTINGS: ClassVar[dict[str, str | None]] = {
        "voltage_setpoint_v": "voltage_v",
        "current_limit_a": "current_a",
        "sink_current_limit_a": "sink_current_a",
    }

    @setter("voltage_v")
    @abstractmethod
    def set_voltage(self, voltage_v: float) -> None: ...
    @setter("current_a")
    @abstractmethod
    def set_current_limit(self, current_a: float) -> None: ...
    @setter("sink_current_a", "current_a")
    @abstractmethod
    def set_sink_current_limit(self, current_a: float) -> None: ...
    @setter("slew_v_per_s")
    @abstractmethod
    def set_slew(self, slew_v_per_s: float) -> None: ...
    @protecting
    @abstractmethod
    def program_protection(self, ovp_v: float, ocp_a: float) -> None: ...
    @energising
    @abstractmethod
    def output_on(self) -> None: ...
    @action
    @abstractmethod
    def output_off(self) -> None: ...
    @reading
    @abstractmethod
    def output_enabled(self) -> bool: ...
    @reading
    @abstractmethod
    def protection(self) -> SupplyProtection: ...
    @protecting
    @abstractmethod
    def clear_protection(self) -> None: ...


class IT6000C(ScpiDcReadback, DcSupply):
    """ITECH IT6000C regenerative supply, raw socket SCPI on TCP 5025."""

    driver = "itech.it6000c"
    MODELS = {
        # voltage, source/sink current, power, slew: the model's own rating [R: IT6000C datasheet]; the
        # slowest slew it takes is a thousandth of its fastest [E: unconfirmed, as the VOLT:SLEW unit]
        "IT6018C-800-75": {
            "voltage_v": (0.0, 800.0),
            "current_a": (0.0, 75.0),
            "sink_current_a": (0.0, 75.0),
            "power_w": (0.0, 18_000.0),
            "slew_v_per_s": (8.0, 8000.0),
        },
        "IT6036C-1500-60": {
            "voltage_v": (0.0, 1500.0),
            "current_a": (0.0, 60.0),
            "sink_current_a": (0.0, 60.0),
            "power_w": (0.0, 36_000.0),
            "slew_v_per_s": (15.0, 15_000.0),
        },
        "IT6054C-800-340": {
            "voltage_v": (0.0, 800.0),
            "current_a": (0.0, 340.0),
            "sink_current_a": (0.0, 340.0),
            "power_w": (0.0, 54_000.0),
            "slew_v_per_s": (8.0, 8000.0),
        },
        # five IT6054C-800-340 in master/slave parallel, answering as one [E: five times the unit's
        # current and power]: a source for the 200 kW drive's peak power (≈ 390 A at 554 V)
        "IT6054C-800-340-P5": {
            "voltage_v": (0.0, 800.0),
            "current_a": (0.0, 1700.0),
            "sink_current_a": (0.0, 1700.0),
            "power_w": (0.0, 270_000.0),
            "slew_v_per_s": (0.001, 8000.0),
        },
    }
    DEFAULT_MODEL = "IT6054C-800-340"

    voltage_setpoint_v = Setting("VOLT?", "VOLT {:.3f}", quantity="voltage_v", doc="CV set point, V")
    current_limit_a = Setting("CURR:LIM?", "CURR:LIM {:.3f}", quantity="current_a", doc="source limit, A")
    sink_current_limit_a = Setting(
        "CURR:LIM:NEG?", "CURR:LIM:NEG -{:.3f}", quantity="sink_current_a", parse=lambda r: abs(float(r))
    )

    def set_voltage(self, voltage_v: float) -> None:
        self.voltage_setpoint_v = voltage_v

    def set_current_limit(self, current_a: float) -> None:
        self.current_limit_a = current_a

    def set_sink_current_limit(self, current_a: float) -> None:
        self.sink_current_limit_a = current_a

    def set_slew(self, slew_v_per_s: float) -> None:
        self.check_rating("slew_v_per_s", slew_v_per_s, "slew_v_per_s")
        # the instrument takes V/ms
        self.write(f"VOLT:SLEW {slew_v_per_s / 1000.0:.6f}")

    def program_protection(self, ovp_v: float, ocp_a: float) -> None:
        self.check_rating("voltage_v", ovp_v, "ovp_v")
        self.check_rating("current_a", ocp_a, "ocp_a")
        self.write(f"VOLT:OVER:PROT:LEV {ovp_v:.3f}")
        self.write("VOLT:OVER:PROT:STAT ON")
        self.write(f"CURR:OVER:PROT:LEV {ocp_a:.3f}")
        self.write("CURR:OVER:PROT:STAT ON")
        self.check_errors()

    def output_on(self) -> None:
        self.write("OUTP ON")

    def output_off(self) -> None:
        self.write("OUTP OFF")

    def output_enabled(self) -> bool:
        return self.query_value("OUTP?", on_off)

    def protection(self) -> SupplyProtection:
        # STAT:QUES:COND? bit 0 over-voltage, bit 1 over-current [R]
        bits = self.query_value("STAT:QUES:COND?", int)
        return SupplyProtection(over_voltage=bool(bits & 1), over_current=bool(bits & 2))

    def clear_protection(self) -> None:
        self.write("PROT:CLE")
