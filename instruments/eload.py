"""Electronic load: sinks DC current (pack discharge, regen absorption).

Command family: Chroma 63200 [S: PythonEquipmentDrivers Chroma_63206A; pymeasure chroma_63600 for
LOAD:PROT?]; the protection-level headers are [R: confirm with the 63200 programming manual].
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
class LoadProtection:
    bits: int

    # LOAD:PROT? bits [S: pymeasure chroma_63600]
    NAMES = ("over-temperature", "over-voltage", "over-current", "over-power", "reverse-voltage")

    @property
    def tripped(self) -> bool:
        return self.bits != 0

    @property
    def reasons(self) -> list[str]:
        return [name for i, name in enumerate(self.NAMES) if self.bits & (1 << i)]


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


class Chroma63200(ScpiDcReadback, ElectronicLoad):
    """Chroma 63200 high-power DC electronic load (63206A, 63210A ...).

    Not yet checked against the 63200A programming manual or an independent driver: every command is
    unverified, and ``hil bench check`` says so on a lab bench."""

    driver = "chroma.63200"
    UNVERIFIED: ClassVar[tuple[str, ...]] = (
        "MODE", "CURR:STAT:L1", "RES:STAT:L1", "POW:STAT:L1", "CURR:PROT", "POW:PROT", "LOAD",
        "LOAD:PROT?", "LOAD:PROT:CLE",
    )  # fmt: skip
    MODELS = {
        "63206A-1200-200": {
            "voltage_v": (0.0, 1200.0),
            "current_a": (0.0, 200.0),
            "power_w": (0.0, 6000.0),
            "resistance_ohm": (0.1, 10_000.0),
        },
        "63210A-1200-240": {
            "voltage_v": (0.0, 1200.0),
            "current_a": (0.0, 240.0),
            "power_w": (0.0, 10_000.0),
            "resistance_ohm": (0.1, 10_000.0),
        },
    }
    DEFAULT_MODEL = "63210A-1200-240"
    MODES = ("CCL", "CCM", "CCH", "CRL", "CRH", "CV", "CPH")

    mode = Setting("MODE?", "MODE {}", values=MODES, parse=str, doc="operating mode")
    current_setpoint_a = Setting("CURR:STAT:L1?", "CURR:STAT:L1 {:.3f}", quantity="current_a")
    resistance_setpoint_ohm = Setting("RES:STAT:L1?", "RES:STAT:L1 {:.3f}", quantity="resistance_ohm")
    power_setpoint_w = Setting("POW:STAT:L1?", "POW:STAT:L1 {:.1f}", quantity="power_w")

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def set_current(self, current_a: float) -> None:
        self.current_setpoint_a = current_a

    def set_resistance(self, resistance_ohm: float) -> None:
        self.resistance_setpoint_ohm = resistance_ohm

    def set_power(self, power_w: float) -> None:
        self.power_setpoint_w = power_w

    def program_protection(self, ocp_a: float, opp_w: float) -> None:
        self.check_rating("current_a", ocp_a, "ocp_a")
        self.check_rating("power_w", opp_w, "opp_w")
        self.write(f"CURR:PROT {ocp_a:.3f}")
        self.write(f"POW:PROT {opp_w:.1f}")
        self.check_errors()

    def load_on(self) -> None:
        self.write("LOAD ON")

    def load_off(self) -> None:
        self.write("LOAD OFF")

    def load_enabled(self) -> bool:
        return self.query_value("LOAD?", on_off)

    def protection(self) -> LoadProtection:
        return LoadProtection(self.query_value("LOAD:PROT?", int))

    def clear_protection(self) -> None:
        self.write("LOAD:PROT:CLE")
