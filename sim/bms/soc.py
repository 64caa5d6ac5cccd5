"""SOC by coulomb counting on the measured current, corrected from the OCV only after a long rest
and only off the LFP plateau, where a few millivolts mean tens of percent (reference §3.2,
BMS-05)."""

from __future__ import annotations

from collections.abc import Mapping

from sim.bms.ocv import OcvTable


class SocEstimator:
    def __init__(self, params: Mapping[str, float], ocv: OcvTable) -> None:
        self.capacity_as = params["capacity"]
        self.coulombic_efficiency = params["coulombic_efficiency"]
        self.rest_current_a = params["rest_current"]
        self.rest_needed_s = params["ocv_rest"]
        self.plateau_low = params["ocv_plateau_low"]
        self.plateau_high = params["ocv_plateau_high"]
        self.ocv = ocv
        self.soc = params["initial_soc"]
        self.rest_s = 0.0
        self._rest_used = False  # one OCV look per rest period

    def step(self, dt_s: float, current_a: float, mean_cell_v: float) -> bool:
        """Count ``current_a`` (+ discharge) over ``dt_s``; True when this step corrected the SOC."""
        charge_as = current_a * dt_s
        if charge_as < 0.0:
            charge_as *= self.coulombic_efficiency  # not all the charge put in is stored
        soc = self.soc - charge_as / self.capacity_as
        self.soc = 0.0 if soc < 0.0 else 1.0 if soc > 1.0 else soc
        if abs(current_a) >= self.rest_current_a:
            self.rest_s = 0.0
            self._rest_used = False
            return False
        self.rest_s += dt_s
        if self._rest_used or self.rest_s < self.rest_needed_s:
            return False
        self._rest_used = True
        soc_ocv = self.ocv.soc(mean_cell_v)
        if self.plateau_low <= soc_ocv <= self.plateau_high:
            return False
        self.soc = soc_ocv
        return True
