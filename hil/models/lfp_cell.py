"""LiFePO4 cell data for the pack model: the resting OCV–SOC curve and the 2RC equivalent circuit.

Figures from the reference (drive-domain.md §3.2, §3.3) with their tags; the ECM figures are given
there for a 100 Ah cell at 25 °C and 50 % SOC and scale with capacity (R ∝ 100 Ah / C, C ∝ C / 100 Ah,
so the time constants stay).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hil.models.figures import sourced

OSBMS = "DuncanAitken/OSBMS BatteryLookup/BatteryLookup.cpp (Thunder Sky/SinoPoly), reference §3.2"
ECM = "reference §3.3, 100 Ah cell, 25 °C, 50 % SOC"

# Resting OCV at 25 °C over state of charge (fraction) [S: OSBMS].
OCV_SOC = (0.00, 0.10, 0.25, 0.40, 0.65, 0.75, 0.89, 0.98, 1.00)
OCV_V = (2.800, 3.184, 3.235, 3.271, 3.294, 3.307, 3.324, 3.385, 3.400)

# Past the table's ends [E]: LFP's end-of-charge knee and end-of-discharge drop, steep enough that a
# cell driven past full reaches the BMS's over-voltage levels (warn 3.80 V, open 4.00 V, reference
# §2.3 BMS-01; Thunder Sky's highest setting 4.25 V [S: everspring.net]) and one driven past empty its
# under-voltage levels (BMS-02: 2.80 V, generic LFP 2.50 V), as real cells do. Beyond these points
# the curve is held flat, far outside every threshold.
OVERCHARGE_SOC = (1.005, 1.01, 1.02)
OVERCHARGE_V = (3.60, 3.80, 4.25)
OVERDISCHARGE_SOC = (-0.02, -0.01)
OVERDISCHARGE_V = (2.00, 2.50)

SOC_POINTS = np.array(OVERDISCHARGE_SOC + OCV_SOC + OVERCHARGE_SOC)
OCV_POINTS = np.array(OVERDISCHARGE_V + OCV_V + OVERCHARGE_V)


def ocv_v(soc: np.ndarray | float) -> np.ndarray:
    """Resting cell voltage at ``soc`` (fraction; linear between the table's points)."""
    return np.interp(soc, SOC_POINTS, OCV_POINTS)


def soc_at_ocv(voltage_v: np.ndarray | float) -> np.ndarray:
    """The state of charge whose resting voltage is ``voltage_v`` (the curve rises strictly)."""
    return np.interp(voltage_v, OCV_POINTS, SOC_POINTS)


@dataclass(frozen=True)
class CellParameters:
    """One cell of the reference pack: capacity, the 2RC circuit, and their dependences."""

    capacity_ah: float = sourced(200.0, "Ah", "E", "reference §2 reference system: 168S LFP, 200 Ah")
    ecm_capacity_ah: float = sourced(100.0, "Ah", "E", f"{ECM}: the cell size the R/τ figures are for")
    r0_ohm_at_ecm_capacity: float = sourced(0.70e-3, "ohm", "E", ECM)
    r1_ohm_at_ecm_capacity: float = sourced(0.35e-3, "ohm", "E", ECM)
    tau1_s: float = sourced(10.0, "s", "E", f"{ECM} (C1 ≈ 29 kF)")
    r2_ohm_at_ecm_capacity: float = sourced(0.50e-3, "ohm", "E", ECM)
    tau2_s: float = sourced(300.0, "s", "E", f"{ECM} (C2 ≈ 600 kF)")
    # 30 kJ/mol gives R0 ×3.0 at 0 °C and ×8.6 at -20 °C; the reference's "≈ ×2.6, ×6" beside it
    # correspond to about 25 kJ/mol. The figure is kept, its consequence stated.
    activation_energy_j_per_mol: float = sourced(30e3, "J/mol", "E", "reference §3.3: R0(T) Arrhenius")
    reference_temperature_c: float = sourced(25.0, "degC", "E", ECM)
    r0_low_soc: float = sourced(0.10, "fraction", "E", "reference §3.3: R0 +30 % below 10 % SOC")
    r0_high_soc: float = sourced(0.95, "fraction", "E", "reference §3.3: R0 +30 % above 95 % SOC")
    r0_soc_factor: float = sourced(1.30, "ratio", "E", "reference §3.3: R0 +30 % at the SOC ends")
    coulombic_efficiency: float = sourced(
        0.997, "ratio", "E", "reference §3.3: 0.995–0.999 on charge (middle of the range)"
    )
    capacity_sigma: float = sourced(0.015, "ratio", "E", "reference §3.3: capacity spread σ 1–2 %")
    r0_sigma: float = sourced(0.04, "ratio", "E", "reference §3.3: R0 spread σ 3–5 %")

    @property
    def capacity_scale(self) -> float:
        """R of this cell size over R of the ECM table's size (R ∝ 100 Ah / C)."""
        return self.ecm_capacity_ah / self.capacity_ah
