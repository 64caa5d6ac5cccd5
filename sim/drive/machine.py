"""The induction machine under rotor-flux-oriented control, quasi-static (reference §4.1–4.3).

Rotor flux ψ on the d axis: torque T = k·ψ·i_q with k = 1.5·p·L_m/L_r, steady flux ψ = L_m·i_d,
slip ω_sl = R_r·L_m·i_q/(L_r·ψ), stator voltage v_d = R_s·i_d − ω_e·σL_s·i_q,
v_q = R_s·i_q + ω_e·L_s·i_d (peak phase values, amplitude-invariant dq).

``operating_point`` uses arithmetic only (``** 0.5``, no ``math``), so the same code serves a scalar
step and a numpy grid. The envelope and flux command are scalar (``math``): the map calls them once
per speed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SQRT2 = math.sqrt(2.0)
SQRT3 = math.sqrt(3.0)
_STANDSTILL_RAD_S = 1e-9


@dataclass(frozen=True)
class Machine:
    """Constants derived once from the ``motor`` and ``inverter`` sections (SI)."""

    pole_pairs: float
    r_s_ref: float
    r_r_ref: float
    temp_ref_c: float
    temp_zero_c: float
    l_m: float
    l_s: float
    l_r: float
    sigma_l_s: float
    k_torque: float  # T per (ψ·i_q)
    psi_rated: float
    flux_forcing: float
    peak_torque: float
    peak_power: float
    max_speed: float
    current_max_pk: float
    voltage_utilisation: float

    @classmethod
    def from_sections(cls, motor: Mapping[str, float], inverter: Mapping[str, float]) -> Machine:
        l_m = motor["magnetising_inductance"]
        l_s = l_m + motor["stator_leakage_inductance"]
        l_r = l_m + motor["rotor_leakage_inductance"]
        p = motor["pole_pairs"]
        return cls(
            pole_pairs=p,
            r_s_ref=motor["stator_resistance"],
            r_r_ref=motor["rotor_resistance"],
            temp_ref_c=motor["resistance_reference_temp"],
            temp_zero_c=motor["copper_inferred_zero_temp"],
            l_m=l_m,
            l_s=l_s,
            l_r=l_r,
            sigma_l_s=l_s - l_m * l_m / l_r,
            k_torque=1.5 * p * l_m / l_r,
            psi_rated=l_m * motor["rated_magnetising_current"],
            flux_forcing=motor["flux_forcing"],
            peak_torque=motor["peak_torque"],
            peak_power=motor["peak_power"],
            max_speed=motor["max_speed"],
            current_max_pk=SQRT2 * inverter["max_current"],
            voltage_utilisation=inverter["voltage_utilisation"],
        )

    def resistance_factor(self, temp_c: Any) -> Any:
        """Copper resistance at ``temp_c`` relative to the reference temperature (linear in T − T0)."""
        return (temp_c - self.temp_zero_c) / (self.temp_ref_c - self.temp_zero_c)

    def rotor_time_constant(self, temp_c: float) -> float:
        return self.l_r / (self.r_r_ref * self.resistance_factor(temp_c))

    def voltage_limit(self, dc_voltage: float) -> float:
        """Peak phase voltage the control plans with: SVPWM linear range V_dc/√3 less a margin."""
        return self.voltage_utilisation * dc_voltage / SQRT3

    def flux_and_envelope(self, speed: float, dc_voltage: float) -> tuple[float, float]:
        """(rotor-flux command Wb, electromagnetic torque envelope N·m) at ``speed`` rad/s.

        Envelope = min(peak torque, peak power/ω, voltage-limited breakdown torque, current limit at
        the commanded flux). The flux is the largest the voltage allows at the envelope torque, capped
        at rated: ψ ∝ 1/ω above base speed, and T ∝ 1/ω² where the breakdown torque
        k·V²·L_m/(2·ω_e²·L_s·σL_s) binds. A second pass adds the slip to ω_e and takes the hot R_s
        drop off the voltage, which the first (lossless, synchronous) pass leaves out.
        """
        w = abs(speed)
        v = self.voltage_limit(max(dc_voltage, 0.0))
        psi, torque = self._flux_and_torque(w, self.pole_pairs * w, v)
        if w > 0.0 and psi > 0.0:
            i_q = torque / (self.k_torque * psi)
            w_sl = self.r_r_ref * self.l_m * i_q / (self.l_r * psi)
            drop = self.r_s_ref * math.hypot(i_q, psi / self.l_m)
            psi, torque = self._flux_and_torque(w, self.pole_pairs * w + w_sl, max(v - drop, 0.0))
        i_d = psi / self.l_m
        i_q_max = math.sqrt(max(self.current_max_pk**2 - i_d * i_d, 0.0))
        return psi, min(torque, self.k_torque * psi * i_q_max)

    def _flux_and_torque(self, w: float, w_e: float, v: float) -> tuple[float, float]:
        torque = self.peak_torque if w == 0.0 else min(self.peak_torque, self.peak_power / w)
        psi = self.psi_rated
        # a speed that has decayed to a few ulps (a shaft coasting to rest) is rest: its square would
        # underflow to zero and divide by it
        if w_e > _STANDSTILL_RAD_S:
            breakdown = self.k_torque * v * v * self.l_m / (2.0 * w_e * w_e * self.l_s * self.sigma_l_s)
            torque = min(torque, breakdown)
            a = (w_e * self.l_s / self.l_m) ** 2
            b = (w_e * self.sigma_l_s * torque / self.k_torque) ** 2
            disc = max(v**4 - 4.0 * a * b, 0.0)
            psi = min(psi, math.sqrt((v * v + math.sqrt(disc)) / (2.0 * a)))
        return psi, torque


def derate(value: float, full: float, zero: float) -> float:
    """1 at or on the good side of ``full``, 0 at or past ``zero``, linear between (either direction)."""
    fraction = (value - zero) / (full - zero)
    return 0.0 if fraction <= 0.0 else 1.0 if fraction >= 1.0 else fraction


@dataclass
class OperatingPoint:
    """Peak dq currents and voltages; ``w_e`` rad/s electrical; works on floats and numpy arrays."""

    i_d: Any
    i_q: Any
    w_sl: Any
    w_e: Any
    v_d: Any
    v_q: Any
    r_s: Any
    r_r: Any

    @property
    def i_pk(self) -> Any:
        return (self.i_d * self.i_d + self.i_q * self.i_q) ** 0.5

    @property
    def v_pk(self) -> Any:
        return (self.v_d * self.v_d + self.v_q * self.v_q) ** 0.5

    @property
    def p_terminal(self) -> Any:
        """Electrical power into the machine terminals (air gap + stator copper), W."""
        return 1.5 * (self.v_d * self.i_d + self.v_q * self.i_q)


def operating_point(
    m: Machine, torque: Any, psi: Any, speed: Any, temp_c: Any, i_d: Any = None
) -> OperatingPoint:
    """The quasi-static point for electromagnetic ``torque`` at rotor flux ``psi`` (> 0) and
    mechanical ``speed``. ``i_d`` defaults to the steady-state ψ/L_m; during flux build-up the
    caller passes the forcing current and the flux derivative term enters v_d."""
    rf = m.resistance_factor(temp_c)
    r_s = m.r_s_ref * rf
    r_r = m.r_r_ref * rf
    steady_i_d = psi / m.l_m
    if i_d is None:
        i_d = steady_i_d
    i_q = torque / (m.k_torque * psi)
    w_sl = r_r * m.l_m * i_q / (m.l_r * psi)
    w_e = m.pole_pairs * speed + w_sl
    flux_rate_emf = (m.l_m / m.l_r) * (r_r / m.l_r) * (m.l_m * i_d - psi)  # (L_m/L_r)·dψ/dt
    v_d = r_s * i_d - w_e * m.sigma_l_s * i_q + flux_rate_emf
    v_q = r_s * i_q + w_e * (m.sigma_l_s * i_d + m.l_m / m.l_r * psi)
    return OperatingPoint(i_d, i_q, w_sl, w_e, v_d, v_q, r_s, r_r)
