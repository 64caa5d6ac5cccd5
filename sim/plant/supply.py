"""The bidirectional DC supply's own physics: CV/CC with slew, source/sink and power limits, and
protections that latch the output off until cleared (reference §6.2 bench implication)."""

from __future__ import annotations

import math
from dataclasses import dataclass

OVER_VOLTAGE = 0x1  # STAT:QUES:COND? bit 0
OVER_CURRENT = 0x2  # STAT:QUES:COND? bit 1


@dataclass(frozen=True)
class SupplyRating:
    voltage_v: float
    current_a: float
    sink_current_a: float
    power_w: float
    slew_v_per_s: float


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
        self.slew_v_per_s = self.rating.slew_v_per_s
        self.source_limit_a = self.rating.current_a
        self.sink_limit_a = self.rating.sink_current_a
        self.ovp_v = 1.1 * self.rating.voltage_v
        self.ovp_enabled = True
        self.ocp_a = 1.1 * max(self.rating.current_a, self.rating.sink_current_a)
        self.ocp_enabled = False

    def switch_on(self, link_voltage_v: float) -> None:
        # the output ramps from what is on the terminals, as the supply's soft start does
        self.output_on = True
        self.programmed_v = link_voltage_v

    def ramp(self, dt_s: float) -> None:
        step = self.slew_v_per_s * dt_s
        delta = self.setpoint_v - self.programmed_v
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
        if self.ocp_enabled and abs(self.current_a) > self.ocp_a:
            self.trip(OVER_CURRENT)

    def trip(self, bit: int) -> None:
        self.tripped |= bit
        self.output_on = False
