"""Bidirectional DC supply (HV bus source / battery emulator that absorbs regen).

Sources of the ITECH IT6000C command set, cited beside each command by these short names:

- live: a driver proven on a real IT6054C-800-225 and its dated log [impl: VlasovLabTech/
  OpenBench-lab-control/src/openbench/drivers/itech_it6000c/supply.py and docs/
  itech-it6054c-live-test-2026-08-13.md]; it cites the ITECH IT6000C Programming Guide (EN).
- guide: a command-by-command transcription of an ITECH regenerative supply's programming guide
  (commands, defaults, the status registers' bits) [impl: chenbei97/30kW-SourceLoad/core/
  spic_command.h].
- m3900: ITECH's IT-M3900 programming guide, quoted in the docstrings of an independent driver
  (same command set) [impl: PyPI pts-itech-m3905d-psu 0.0.2, pts_itech_m3905d_psu.py].
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, fields
from typing import Any, ClassVar

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
    """The supply's latched protections and faults; any of them set means the output is held off."""

    over_voltage: bool
    over_current: bool
    sink_over_current: bool = False
    over_power: bool = False
    sink_over_power: bool = False
    under_voltage: bool = False
    over_temperature: bool = False
    under_current: bool = False
    sense_fault: bool = False
    current_share_fault: bool = False
    output_reversed: bool = False
    inhibited: bool = False
    protection_shutdown: bool = False
    loop_oscillation: bool = False
    internal_fault: bool = False

    @property
    def tripped(self) -> bool:
        return any(self.active)

    @property
    def active(self) -> tuple[str, ...]:
        """The names of the protections and faults that are set."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))


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


class _CvLimit(Setting):
    """A current limit the IT6000C takes only in CV priority [live: "CURR:LIM is writable in CV
    priority"; m3900: "current upper limit value Ilim value in CV priority mode"]: ``FUNC VOLT``
    [live, m3900, guide: SOUR:FUNC VOLT, CV the default] goes first, so a supply left in CC priority
    does not refuse the limit. Both are sent only after the rating check passed."""

    def __set__(self, driver: Any, value: Any) -> None:
        driver.check_rating(self.rating, float(value), self.name)
        driver.write("FUNC VOLT")
        driver.write(self.write.format(value))


#: STAT:QUES:COND? bit -> SupplyProtection field [guide: the questionable status group's 15 bits;
#: live: the same table, OVP 1 ... INTERNAL 16384]
QUESTIONABLE_BITS = {
    0: "over_voltage",  # OV
    1: "over_current",  # OC+
    2: "sink_over_current",  # OC-
    3: "over_power",  # OP+
    4: "sink_over_power",  # OP-
    5: "under_voltage",  # UV
    6: "over_temperature",  # OT
    7: "under_current",  # UC
    8: "sense_fault",  # Errsense
    9: "current_share_fault",  # Share (parallel units)
    10: "output_reversed",  # Rvs
    11: "inhibited",  # INH, the external inhibit input
    12: "protection_shutdown",  # PS
    13: "loop_oscillation",  # OSC
    14: "internal_fault",  # UNR
}


class IT6000C(ScpiDcReadback, DcSupply):
    """ITECH IT6000C regenerative supply, raw socket SCPI on TCP 5025.

    Read-backs (``ScpiDcReadback``): ``MEAS:VOLT?``, ``MEAS:CURR?``, ``MEAS:POW?`` [live; guide].
    Commons: ``*IDN?`` (six fields) [live], ``SYST:ERR?`` [guide; m3900], ``*RST``, ``*CLS``,
    ``*OPC?`` [guide].
    """

    driver = "itech.it6000c"
    #: commands no source confirms as this driver uses them (see each one's comment)
    UNVERIFIED: ClassVar[tuple[str, ...]] = ("VOLT:SLEW",)
    MODELS = {
        # the programmable maxima read from a real IT6054C-800-225 (808 V, 227.25 A, 55.08 kW) [live:
        # protocol.py IT6054C_800_225 scpi_*_max; the log's CURR:PROT 227.25 and POW:LIM 55080],
        # sinking as much as it sources [live: CURR:LIM:NEG and POW:LIM:NEG -55080]. No other
        # IT6000C model's figures were found: a bench naming one is refused rather than guessed at.
        # The slew is the range this driver asks for [E]: VOLT:SLEW's own limits are unconfirmed.
        "IT6054C-800-225": {
            "voltage_v": (0.0, 808.0),
            "current_a": (0.0, 227.25),
            "sink_current_a": (0.0, 227.25),
            "power_w": (0.0, 55_080.0),
            "slew_v_per_s": (8.0, 8000.0),
        },
        # five IT6054C-800-225 in master/slave parallel, answering as one [E: five times the unit's
        # current and power]: a source for the 200 kW drive's peak power (≈ 390 A at 554 V)
        "IT6054C-800-225-P5": {
            "voltage_v": (0.0, 808.0),
            "current_a": (0.0, 1136.25),
            "sink_current_a": (0.0, 1136.25),
            "power_w": (0.0, 275_400.0),
            "slew_v_per_s": (8.0, 8000.0),
        },
    }
    DEFAULT_MODEL = "IT6054C-800-225"

    # VOLT, VOLT? [live: VOLT {:.6f}, VOLT?; guide: SOUR:VOLT]
    voltage_setpoint_v = Setting("VOLT?", "VOLT {:.3f}", quantity="voltage_v", doc="CV set point, V")
    # CURR:LIM, CURR:LIM? [live; guide: SOUR:CURR:LIM, the limit I+ in CV priority; m3900]
    current_limit_a = _CvLimit("CURR:LIM?", "CURR:LIM {:.3f}", quantity="current_a", doc="source limit, A")
    # CURR:LIM:NEG, a negative current [live: written and read back as -2.27; guide: I- in CV priority]
    sink_current_limit_a = _CvLimit(
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
        # unverified: VOLT:SLEW takes a time in seconds, rise and fall together, default 0.1 s
        # [guide: "SOUR:VOLT:SLEW 0.1", DEF 0.1 s, the voltage rise and fall time; an IT-M3400/M3900
        # driver: "voltage slew rate, seconds"; live: the unit read 0.1 at its defaults], not V/ms
        # as one driver names it. No source says what span that time covers (the full range, or each
        # change of set point): it is taken as the full programmable range, so the real ramp is no
        # faster than asked under either reading (a per-change time gives |dV|/t <= the rate asked).
        # Confirm on the unit (VOLT:SLEW? MIN|MAX and a timed step) before relying on the rate.
        full_range_v = self.MODELS[self.model]["voltage_v"][1]
        self.write(f"VOLT:SLEW {full_range_v / slew_v_per_s:.6f}")

    def program_protection(self, ovp_v: float, ocp_a: float) -> None:
        self.check_rating("voltage_v", ovp_v, "ovp_v")
        self.check_rating("current_a", ocp_a, "ocp_a")
        # VOLT:PROT, VOLT:PROT:STAT, CURR:PROT, CURR:PROT:STAT [live: update_protections, the log's
        # "OVP ON 12.8 V; OCP ON 227.25 A"; guide: SOUR:VOLT:PROT, SOUR:CURR:PROT and their STAT]
        self.write(f"VOLT:PROT {ovp_v:.3f}")
        self.write("VOLT:PROT:STAT ON")
        self.write(f"CURR:PROT {ocp_a:.3f}")
        self.write("CURR:PROT:STAT ON")
        self.check_errors()

    def output_on(self) -> None:
        self.write("OUTP ON")  # [live; guide: OUTP ON]

    def output_off(self) -> None:
        self.write("OUTP OFF")  # [live; guide: OUTP OFF]

    def output_enabled(self) -> bool:
        return self.query_value("OUTP?", on_off)  # [live: parse_bool(OUTP?)]

    def protection(self) -> SupplyProtection:
        # STAT:QUES:COND?, the condition register, every documented bit [guide; live]
        bits = self.query_value("STAT:QUES:COND?", int)
        return SupplyProtection(**{name: bool(bits >> bit & 1) for bit, name in QUESTIONABLE_BITS.items()})

    def clear_protection(self) -> None:
        self.write("OUTP:PROT:CLE")  # [live: clear_protection; guide: OUTP:PROT:CLE clears the protection]
