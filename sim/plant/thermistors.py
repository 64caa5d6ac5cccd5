"""The thermistor emulator's own physics: a programmable decade resistance on one of the BMS's NTC
sense lines, standing in for the NTC, or an open circuit; and the NTC law that says which
temperature a resistance stands for.

The instrument is a decade resistance substituter: each decade is a switch setting 0-9 (a relay
chain), the value the sum of the decades; an optional extra decade above the most significant one
opens or shorts the output (IET Labs PRS-200/202 Operation Manual §7.2 [S]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KELVIN = 273.15
NTC_REFERENCE_C = 25.0  # R25: the NTC's resistance is quoted at 25 °C [S: any NTC datasheet, B25/85]
# an NTC's table ends; beyond, the BMS's ADC reads a short or an open line [E]
NTC_RANGE_C = (-55.0, 150.0)


def ntc_temperature_c(resistance_ohm: float, r25_ohm: float, beta_k: float) -> float:
    """The temperature an NTC of this resistance is at, by the β law 1/T = 1/T25 + ln(R/R25)/β,
    clamped to the NTC's range (an open line reads coldest, a short hottest)."""
    if resistance_ohm <= 0.0:
        return NTC_RANGE_C[1]
    if math.isinf(resistance_ohm):
        return NTC_RANGE_C[0]
    inverse_t = 1.0 / (NTC_REFERENCE_C + KELVIN) + math.log(resistance_ohm / r25_ohm) / beta_k
    t_c = 1.0 / inverse_t - KELVIN if inverse_t > 0.0 else NTC_RANGE_C[1]
    return min(max(t_c, NTC_RANGE_C[0]), NTC_RANGE_C[1])


def ntc_resistance_ohm(temperature_c: float, r25_ohm: float, beta_k: float) -> float:
    """The NTC's resistance at ``temperature_c`` (the inverse of ``ntc_temperature_c``)."""
    return r25_ohm * math.exp(beta_k * (1.0 / (temperature_c + KELVIN) - 1.0 / (NTC_REFERENCE_C + KELVIN)))


@dataclass(frozen=True)
class DecadeRating:
    """``decades`` switches from ``lsd_ohm`` up; ``open_short`` the OC/SC decade is fitted."""

    decades: int
    lsd_ohm: float
    open_short: bool

    @property
    def max_ohm(self) -> float:
        return self.lsd_ohm * (10**self.decades - 1)


class DecadeResistor:
    """What the terminals present: the decades' sum, an open circuit or a short."""

    def __init__(self, rating: DecadeRating, power_on_ohm: float) -> None:
        self.rating = rating
        self.power_on_ohm = power_on_ohm
        self.reset()

    def reset(self) -> None:
        self.decade_ohm = self.power_on_ohm
        self.mode = "normal"  # "normal" | "open" | "short"

    @property
    def resistance_ohm(self) -> float:
        if self.mode == "open":
            return math.inf
        if self.mode == "short":
            return 0.0
        return self.decade_ohm
