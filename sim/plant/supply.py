"""The bidirectional DC supply's own physics: CV/CC with slew, source/sink and power limits, and
protections that latch the output off until cleared (reference §6.2 bench implication)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# STAT:QUES:COND? bits of the IT6000C's questionable status group [impl: chenbei97/30kW-SourceLoad/
# core/spic_command.h, the transcribed bit table; VlasovLabTech/OpenBench-lab-control, the same]: the
# plant sets those it models; the register holds all 15 (instruments/supply.py QUESTIONABLE_BITS)
OVER_VOLTAGE = 0x1  # OV
OVER_CURRENT = 0x2  # OC+
SINK_OVER_CURRENT = 0x4  # OC-
#: VOLT:SLEW's default, the rise and fall time in seconds [impl: chenbei97/30kW-SourceLoad/core/
#: spic_command.h: "SOUR:VOLT:SLEW DEF" 0.1 s]
DEFAULT_SLEW_S = 0.1


@dataclass(frozen=True)
class SupplyRating:
    voltage_v: float
    current_a: float
    sink_current_a: float
    power_w: float


class SupplyModel:
    """Set points and latches as the instrument holds them; the plant computes the output."""

    def __init__(self, rating: SupplyRating) -> None:
        self.rating = rating
        self.tripped = 0
        self.voltage_v = 0.0
        self.current_a = 0.0
        self.constant_current = False
        self.reset()

    def reset(self) -> None:
        """*RST: output off, set points to their defaults; a tripped protection stays latched."""
        self.output_on = False
        self.setpoint_v = 0.0
        self.programmed_v = 0.0
        self.rise_s = DEFAULT_SLEW_S
        self.fall_s = DEFAULT_SLEW_S
        self.source_limit_a = self.rating.current_a
        self.sink_limit_a = self.rating.sink_current_a
        # the protection levels' defaults are the rated voltage and current [impl: chenbei97/
        # 30kW-SourceLoad/core/spic_command.h: VOLT:PROT DEF, CURR:PROT DEF]
        self.ovp_v = self.rating.voltage_v
        self.ovp_enabled = True
        self.ocp_a = max(self.rating.current_a, self.rating.sink_current_a)
        self.ocp_enabled = False

    def switch_on(self, link_voltage_v: float) -> None:
        # the output ramps from what is on the terminals, as the supply's soft start does
        self.output_on = True
        self.programmed_v = link_voltage_v

    def ramp(self, dt_s: float) -> None:
        # the rise (fall) time is taken as the time over the full voltage range [E: no source says
        # what span VOLT:SLEW's time covers; instruments/supply.py asks on the same reading]
        delta = self.setpoint_v - self.programmed_v
        step = self.rating.voltage_v / (self.rise_s if delta > 0 else self.fall_s) * dt_s
        self.programmed_v = (
            self.setpoint_v if abs(delta) <= step else self.programmed_v + math.copysign(step, delta)
        )

    def current_limits(self, voltage_v: float) -> tuple[float, float]:
        """(most negative, most positive) output current at this terminal voltage."""
        power_limit = self.rating.power_w / max(voltage_v, 1.0)
        return -min(self.sink_limit_a, power_limit), min(self.source_limit_a, power_limit)

    def check(self) -> None:
        # only an enabled output trips: switched off, the terminals just follow the DC link
        if not self.output_on:
            return
        if self.ovp_enabled and self.voltage_v > self.ovp_v:
            self.trip(OVER_VOLTAGE)
        # one CURR:PROT level for both directions, a sink current past it setting OC- [E: the
        # sources give the OC- bit but not which level trips it]
        if self.ocp_enabled and abs(self.current_a) > self.ocp_a:
            self.trip(OVER_CURRENT if self.current_a > 0 else SINK_OVER_CURRENT)

    def trip(self, bit: int) -> None:
        self.tripped |= bit
        self.output_on = False
