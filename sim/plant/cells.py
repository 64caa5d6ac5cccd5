"""The cell simulator's own physics: one isolated source per channel on the BMS sense lines, with
per-channel over-voltage/over-current protection that opens the channel until cleared."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellRating:
    channels: int
    voltage_v: float
    current_a: float


class CellBank:
    def __init__(self, rating: CellRating, default_voltage_v: float, quiescent_current_a: float) -> None:
        self.rating = rating
        self.default_voltage_v = default_voltage_v
        # the BMS analogue front end draws this from every sense line; balancing adds to it later
        self.quiescent_current_a = quiescent_current_a
        self.tripped = [False] * rating.channels
        self.bleed_a: list[float] = [0.0] * rating.channels
        self.reset()

    def reset(self) -> None:
        n = self.rating.channels
        self.voltage_set_v = [self.default_voltage_v] * n
        self.output_on = [False] * n
        self.current_limit_a = [self.rating.current_a] * n
        self.ovp_v = [self.rating.voltage_v] * n
        self.ocp_a = [self.rating.current_a] * n

    def voltages(self) -> list[float]:
        return [v if on else 0.0 for v, on in zip(self.voltage_set_v, self.output_on, strict=True)]

    def currents(self) -> list[float]:
        """What each channel sources: the BMS front end's quiescent draw plus its balancing bleed."""
        return [
            self.quiescent_current_a + bleed if on else 0.0
            for on, bleed in zip(self.output_on, self.bleed_a, strict=True)
        ]

    def check(self) -> None:
        for i, current in enumerate(self.currents()):
            if self.output_on[i] and (self.voltage_set_v[i] > self.ovp_v[i] or current > self.ocp_a[i]):
                self.tripped[i] = True
                self.output_on[i] = False
