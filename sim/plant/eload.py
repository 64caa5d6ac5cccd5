"""The electronic load's own physics: CC/CR/CV/CP sinking from the DC link, and protections that
latch the input off until ``LOAD:PROT:CLE`` (bits as ``LOAD:PROT?`` reports them)."""

from __future__ import annotations

from dataclasses import dataclass

# LOAD:PROT? bits 0-4 (of 0-8) [impl: pymeasure/pymeasure pymeasure/instruments/chroma/chroma_63600.py]
OVER_TEMPERATURE, OVER_VOLTAGE, OVER_CURRENT, OVER_POWER, REVERSE_VOLTAGE = 0x1, 0x2, 0x4, 0x8, 0x10

# below this the load's MOSFETs run out of headroom and the current folds back [E]
KNEE_V = 1.0
# how hard CV mode regulates: amperes per volt above the set point [E]
CV_GAIN_A_PER_V = 50.0
# a terminal voltage this far below zero is a reversed connection [E]
REVERSE_V = -1.0


@dataclass(frozen=True)
class LoadRating:
    voltage_v: float
    current_a: float
    power_w: float
    resistance_ohm: tuple[float, float]


class LoadModel:
    def __init__(self, rating: LoadRating) -> None:
        self.rating = rating
        self.tripped = 0
        self.voltage_v = 0.0
        self.current_a = 0.0
        self.reset()

    def reset(self) -> None:
        self.input_on = False
        self.short = False
        self.mode = "CCH"
        self.current_set_a = 0.0
        self.resistance_set_ohm = self.rating.resistance_ohm[1]
        self.voltage_set_v = 0.0
        self.power_set_w = 0.0
        # the load's own protection levels: fixed, not programmable (the 63200A's OCP/OPP commands
        # run test modes); a tenth above the rating [E: the manual's level not found]
        self.ocp_a = 1.1 * self.rating.current_a
        self.opp_w = 1.1 * self.rating.power_w

    def current(self, voltage_v: float) -> float:
        """The current drawn at this terminal voltage in the present mode."""
        if not self.input_on or voltage_v <= 0.0:
            return 0.0
        fold = min(1.0, voltage_v / KNEE_V)
        if self.short:
            wanted = self.rating.current_a
        elif self.mode.startswith("CC"):
            wanted = self.current_set_a
        elif self.mode.startswith("CR"):
            wanted = voltage_v / self.resistance_set_ohm
        elif self.mode.startswith("CV"):
            wanted = max(0.0, voltage_v - self.voltage_set_v) * CV_GAIN_A_PER_V
        else:
            wanted = self.power_set_w / max(voltage_v, KNEE_V)
        # the load's own ceiling: rated current, and rated power at this voltage
        return min(wanted * fold, self.rating.current_a, self.rating.power_w / voltage_v)

    def check(self) -> None:
        if self.voltage_v < REVERSE_V:
            self.trip(REVERSE_VOLTAGE)
        if self.voltage_v > self.rating.voltage_v:
            self.trip(OVER_VOLTAGE)
        if self.current_a > self.ocp_a:
            self.trip(OVER_CURRENT)
        if self.voltage_v * self.current_a > self.opp_w:
            self.trip(OVER_POWER)

    def trip(self, bit: int) -> None:
        self.tripped |= bit
        self.input_on = False
        self.current_a = 0.0  # the input opens at once; a reading before the next step must not show the load
