"""Charge and discharge current limits, tapered linearly near the voltage and temperature limits."""

from __future__ import annotations

from collections.abc import Mapping


def ramp(x: float, full_at: float, zero_at: float) -> float:
    """1 on the ``full_at`` side, 0 on the ``zero_at`` side, linear in between."""
    if full_at < zero_at:
        if x <= full_at:
            return 1.0
        return 0.0 if x >= zero_at else (zero_at - x) / (zero_at - full_at)
    if x >= full_at:
        return 1.0
    return 0.0 if x <= zero_at else (x - zero_at) / (full_at - zero_at)


class CurrentLimits:
    def __init__(self, params: Mapping[str, float], capacity_as: float) -> None:
        self.max_charge_a = params["max_charge_c_rate"] * capacity_as
        self.max_discharge_a = params["max_discharge_c_rate"] * capacity_as
        self.charge_taper_start_v = params["charge_taper_start"]
        self.charge_zero_v = params["charge_zero"]
        self.discharge_taper_start_v = params["discharge_taper_start"]
        self.discharge_zero_v = params["discharge_zero"]
        self.hot_taper_start_c = params["overtemperature_warning"]
        self.hot_zero_c = params["overtemperature_trip"]
        self.cold_charge_zero_c = params["charge_min_temperature"]
        self.cold_charge_full_c = params["charge_full_temperature"]

    def charge_a(self, max_cell_v: float, max_temp_c: float, min_temp_c: float) -> float:
        return (
            self.max_charge_a
            * ramp(max_cell_v, self.charge_taper_start_v, self.charge_zero_v)
            * ramp(max_temp_c, self.hot_taper_start_c, self.hot_zero_c)
            * ramp(min_temp_c, self.cold_charge_full_c, self.cold_charge_zero_c)  # none below freezing
        )

    def discharge_a(self, min_cell_v: float, max_temp_c: float) -> float:
        return (
            self.max_discharge_a
            * ramp(min_cell_v, self.discharge_taper_start_v, self.discharge_zero_v)
            * ramp(max_temp_c, self.hot_taper_start_c, self.hot_zero_c)
        )
