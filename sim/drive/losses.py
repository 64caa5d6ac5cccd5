"""Motor and inverter losses (reference §4.3) and the steady-state efficiency map (INV-08).

The loss functions use arithmetic only, so the per-step path calls them with floats and the map with
numpy grids. Inverter conduction follows the sine-PWM averages per device,
P_T = V_ce0·I(1/2π + m·cosφ/8) + r_ce·I²(1/8 + m·cosφ/3π) and the diode with the signs flipped;
m·cosφ = 4P/(3·V_dc·I), so no term divides by the current. Switching scales the datasheet energies
with V_dc/V_ref and the mean switched current |i|avg/I_ref.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.drive.machine import Machine, OperatingPoint, operating_point

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class LossModel:
    """Loss coefficients derived once from the ``motor`` and ``inverter`` sections (SI)."""

    k_hysteresis: float  # W per (Hz·Wb²)
    k_eddy: float  # W per (Hz²·Wb²)
    base_speed: float
    friction_at_base: float
    windage_at_base: float
    v_ce0: float
    r_ce: float
    v_f0: float
    r_f: float
    f_sw: float
    e_switch: float
    e_recovery: float
    v_ref: float
    i_ref: float

    @classmethod
    def from_sections(
        cls, m: Machine, motor: Mapping[str, float], inverter: Mapping[str, float]
    ) -> LossModel:
        base_speed = motor["base_speed"]
        f_base = m.pole_pairs * base_speed / TWO_PI
        iron = motor["iron_loss_at_base"] / (m.psi_rated**2)
        eddy = motor["iron_loss_eddy_fraction"]
        return cls(
            k_hysteresis=iron * (1.0 - eddy) / f_base,
            k_eddy=iron * eddy / (f_base * f_base),
            base_speed=base_speed,
            friction_at_base=motor["friction_loss_at_base"],
            windage_at_base=motor["windage_loss_at_base"],
            v_ce0=inverter["igbt_threshold_voltage"],
            r_ce=inverter["igbt_slope_resistance"],
            v_f0=inverter["diode_threshold_voltage"],
            r_f=inverter["diode_slope_resistance"],
            f_sw=inverter["switching_frequency"],
            e_switch=inverter["switching_energy"],
            e_recovery=inverter["recovery_energy"],
            v_ref=inverter["switching_reference_voltage"],
            i_ref=inverter["switching_reference_current"],
        )

    def mechanical(self, speed: Any) -> Any:
        """Friction ∝ ω plus windage ∝ ω³, W (taken from the shaft, not from the DC link)."""
        x = abs(speed) / self.base_speed
        return self.friction_at_base * x + self.windage_at_base * x * x * x

    def motor(self, m: Machine, op: OperatingPoint, psi: Any) -> dict[str, Any]:
        f = abs(op.w_e) / TWO_PI
        rotor_current = m.l_m / m.l_r * op.i_q
        return {
            "stator_copper": 1.5 * op.r_s * (op.i_d * op.i_d + op.i_q * op.i_q),
            "rotor_copper": 1.5 * op.r_r * rotor_current * rotor_current,
            "iron": (self.k_hysteresis * f + self.k_eddy * f * f) * psi * psi,
        }

    def inverter(self, i_pk: Any, p_terminal: Any, dc_voltage: Any) -> dict[str, Any]:
        """Three legs; ``p_terminal`` signed (regen puts the current in the diodes)."""
        mcos_i = 4.0 * p_terminal / (3.0 * dc_voltage)  # m·cosφ·I_pk
        per_device_pair = (
            (self.v_ce0 + self.v_f0) * i_pk / TWO_PI
            + (self.v_ce0 - self.v_f0) * mcos_i / 8.0
            + (self.r_ce + self.r_f) * i_pk * i_pk / 8.0
            + (self.r_ce - self.r_f) * mcos_i * i_pk / (3.0 * math.pi)
        )
        mean_abs_current = 2.0 * i_pk / math.pi
        switching = (
            3.0
            * self.f_sw
            * (self.e_switch + self.e_recovery)
            * (dc_voltage / self.v_ref)
            * (mean_abs_current / self.i_ref)
        )
        return {"inverter_conduction": 6.0 * per_device_pair, "inverter_switching": switching}


@dataclass(frozen=True)
class EfficiencyMap:
    """Steady state on a (speed, shaft torque) grid; arrays are [speed, torque]. Points outside the
    envelope (or at standstill) are NaN in the efficiencies and False in ``inside``."""

    speeds_rad_s: np.ndarray
    torques_nm: np.ndarray
    envelope_nm: np.ndarray  # shaft-torque envelope per speed
    inside: np.ndarray
    eta_motor: np.ndarray
    eta_system: np.ndarray
    p_dc_w: np.ndarray
    losses_w: dict[str, np.ndarray]

    def peak(self, which: str = "system") -> tuple[float, float, float]:
        """(efficiency, speed rad/s, torque N·m) of the best point."""
        eta = self.eta_system if which == "system" else self.eta_motor
        i, j = np.unravel_index(np.nanargmax(eta), eta.shape)
        return float(eta[i, j]), float(self.speeds_rad_s[i]), float(self.torques_nm[j])

    def area_fraction(self, threshold: float, which: str = "system") -> float:
        """Share of the envelope's grid points (a uniform grid: share of its area) at ≥ threshold."""
        eta = self.eta_system if which == "system" else self.eta_motor
        good = np.where(self.inside, np.nan_to_num(eta, nan=0.0) >= threshold, False)
        return float(good.sum() / self.inside.sum())


def efficiency_map(
    motor: Mapping[str, float],
    inverter: Mapping[str, float],
    speeds_rad_s: np.ndarray,
    torques_nm: np.ndarray,
    dc_voltage_v: float,
    winding_temp_c: float,
) -> EfficiencyMap:
    """The steady-state map at rated control flux (ψ from the field-weakening law per speed).

    Shaft torque T_s = T_e − P_mech/ω; η = P_out/P_in in either direction (generating: P_dc/P_shaft).
    """
    m = Machine.from_sections(motor, inverter)
    lm = LossModel.from_sections(m, motor, inverter)
    speeds = np.asarray(speeds_rad_s, dtype=float)
    torques = np.asarray(torques_nm, dtype=float)
    flux_env = [m.flux_and_envelope(float(w), dc_voltage_v) for w in speeds]
    psi = np.array([f for f, _ in flux_env])[:, None]
    w = speeds[:, None]
    p_mech = lm.mechanical(w)
    drag = np.divide(p_mech, np.abs(w), out=np.zeros_like(w), where=w != 0.0)
    envelope = np.array([e for _, e in flux_env]) - drag[:, 0]
    t_shaft = np.broadcast_to(torques[None, :], (speeds.size, torques.size))
    inside = (np.abs(t_shaft) <= envelope[:, None] + 1e-9) & (w != 0.0)
    t_e = t_shaft + drag * np.sign(w)
    op = operating_point(m, t_e, psi, w, winding_temp_c)
    losses = lm.motor(m, op, psi) | lm.inverter(op.i_pk, op.p_terminal, dc_voltage_v)
    losses["mechanical"] = p_mech + 0.0 * t_e
    p_shaft = t_shaft * w
    p_motor_in = op.p_terminal + losses["iron"]
    p_dc = p_motor_in + losses["inverter_conduction"] + losses["inverter_switching"]
    with np.errstate(divide="ignore", invalid="ignore"):
        motoring = p_shaft > 0.0
        eta_motor = np.where(motoring, p_shaft / p_motor_in, p_motor_in / p_shaft)
        eta_system = np.where(motoring, p_shaft / p_dc, p_dc / p_shaft)
    idle = p_shaft == 0.0  # no output: efficiency 0, not 0/0
    eta_motor = np.where(idle, 0.0, eta_motor)
    eta_system = np.where(idle, 0.0, eta_system)
    nan = np.full_like(eta_motor, np.nan)
    return EfficiencyMap(
        speeds_rad_s=speeds,
        torques_nm=torques,
        envelope_nm=envelope,
        inside=inside,
        eta_motor=np.where(inside, eta_motor, nan),
        eta_system=np.where(inside, eta_system, nan),
        p_dc_w=p_dc,
        losses_w=losses,
    )
