"""An NTC thermistor's curve: which resistance stands for which temperature on a BMS sense line.

A thermistor emulator takes a resistance; a scenario asks for a temperature. The β law
R(T) = R25 · exp(β (1/T − 1/T25)) [S: the B25/85 constant of NTC datasheets] converts between them
with the NTC type the product names (``specs/product.yaml``: ``ntc_r25``, ``ntc_beta``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hil.product import Product

KELVIN = 273.15
REFERENCE_C = 25.0


@dataclass(frozen=True)
class NtcCurve:
    r25_ohm: float
    beta_k: float

    def __post_init__(self) -> None:
        if not (self.r25_ohm > 0 and self.beta_k > 0):
            raise ValueError(f"NTC curve: r25_ohm={self.r25_ohm!r} and beta_k={self.beta_k!r} must be > 0")

    @classmethod
    def of_product(cls, product: Product) -> NtcCurve:
        return cls(product.value("ntc_r25", "ohm"), product.value("ntc_beta", "K"))

    def resistance_ohm(self, temperature_c: float) -> float:
        if not (math.isfinite(temperature_c) and temperature_c > -KELVIN):
            raise ValueError(f"NTC curve: {temperature_c!r} °C is not a temperature")
        return self.r25_ohm * math.exp(
            self.beta_k * (1.0 / (temperature_c + KELVIN) - 1.0 / (REFERENCE_C + KELVIN))
        )

    def temperature_c(self, resistance_ohm: float) -> float:
        if not (math.isfinite(resistance_ohm) and resistance_ohm > 0):
            raise ValueError(f"NTC curve: {resistance_ohm!r} Ω is not a resistance an NTC has")
        return (
            1.0 / (1.0 / (REFERENCE_C + KELVIN) + math.log(resistance_ohm / self.r25_ohm) / self.beta_k)
            - KELVIN
        )
