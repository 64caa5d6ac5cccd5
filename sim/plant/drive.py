"""The simple drive under test: torque follows the TSC1 request through a first-order lag inside a
speed/power envelope; the inverter draws P = T·ω/η from the DC link (reference §4.1 item 1, without
flux dynamics or a loss map: those come with the full drive model)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DriveParameters:
    pole_pairs: int
    torque_time_constant_s: float
    efficiency: float
    max_torque_nm: float
    max_power_w: float
    max_speed_rpm: float
    undervoltage_v: float
    torque_constant_nm_per_a: float
    magnetising_current_a: float
    rated_torque_nm: float
    rated_slip_hz: float
    base_frequency_hz: float


class SimpleDrive:
    def __init__(self, parameters: DriveParameters) -> None:
        self.p = parameters
        self.torque_request_nm = 0.0
        self.controlling_address = 0xFF
        self.torque_nm = 0.0
        self.electrical_angle_rad = 0.0
        self.electrical_frequency_hz = 0.0
        self.dc_power_w = 0.0

    def enabled(self, dc_voltage_v: float) -> bool:
        return dc_voltage_v >= self.p.undervoltage_v

    def modulating(self, dc_voltage_v: float) -> bool:
        return self.enabled(dc_voltage_v) and (self.torque_request_nm != 0.0 or abs(self.torque_nm) > 0.5)

    def update(self, dt_s: float, speed_rad_s: float, dc_voltage_v: float) -> float:
        """Advance the torque and the electrical angle; the shaft torque for the next step."""
        speed_rpm = speed_rad_s * 30.0 / math.pi
        target = self._envelope(self.torque_request_nm, speed_rad_s, speed_rpm)
        if not self.enabled(dc_voltage_v):
            target = 0.0
        self.torque_nm += (target - self.torque_nm) * (1.0 - math.exp(-dt_s / self.p.torque_time_constant_s))
        mechanical_w = self.torque_nm * speed_rad_s
        self.dc_power_w = (
            mechanical_w / self.p.efficiency if mechanical_w >= 0 else mechanical_w * self.p.efficiency
        )
        slip_hz = self.p.rated_slip_hz * self.torque_nm / self.p.rated_torque_nm
        self.electrical_frequency_hz = self.p.pole_pairs * speed_rpm / 60.0 + slip_hz
        self.electrical_angle_rad += 2.0 * math.pi * self.electrical_frequency_hz * dt_s
        return self.torque_nm

    def _envelope(self, torque_nm: float, speed_rad_s: float, speed_rpm: float) -> float:
        limit = self.p.max_torque_nm
        if abs(speed_rad_s) > 1.0:
            limit = min(limit, self.p.max_power_w / abs(speed_rad_s))
        if abs(speed_rpm) > self.p.max_speed_rpm:
            limit = 0.0
        return max(-limit, min(limit, torque_nm))

    def dc_current_a(self, dc_voltage_v: float) -> float:
        if not self.enabled(dc_voltage_v):
            return 0.0
        return self.dc_power_w / dc_voltage_v

    def phase_quantities(self, dc_voltage_v: float) -> tuple[float, float, float]:
        """(phase voltage rms, phase current rms, current lag rad) of the fundamental.

        Volts per hertz up to base frequency within the SVPWM limit V_dc/√6 rms per phase; current
        from the FOC torque constant plus the magnetising current; the angle from the power balance.
        """
        if not self.modulating(dc_voltage_v):
            return 0.0, 0.0, 0.0
        per_unit = min(max(abs(self.electrical_frequency_hz) / self.p.base_frequency_hz, 0.02), 1.0)
        voltage = dc_voltage_v / math.sqrt(6.0) * per_unit
        i_q = self.torque_nm / self.p.torque_constant_nm_per_a
        current = math.hypot(i_q, self.p.magnetising_current_a) / math.sqrt(2.0)
        cos_phi = max(-1.0, min(1.0, self.dc_power_w / (3.0 * voltage * current)))
        return voltage, current, math.acos(cos_phi)
