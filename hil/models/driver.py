"""The driver model: follows a target speed with the torque request a bus's VCU sends (TSC1).

What it holds: a PI controller on the speed error, in tractive force, with feed-forward of the
target's acceleration and of the road load (the driver of the emulated bus knows its bus), and
anti-windup (the integrator holds while the output is at a limit in the error's direction). What it
gives each step: the motor torque request, positive up to the motor's peak, negative for braking
down to the regen limit (faded out at walking pace, where buses stop on the friction brake), and
the service-brake force for whatever deceleration regen cannot give. At a stop with a zero target
it holds the bus on the service brake.

The motor torque is the output-shaft torque over the transmission's present ratio (motor speed
over output speed), which the caller supplies each step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hil.models.figures import sourced
from hil.models.vehicle import VehicleParameters

DRIVER_TUNING = "tuned in closed loop with the vehicle model (tests/models/test_driver.py)"


@dataclass(frozen=True)
class DriverParameters:
    kp_n_per_mps: float = sourced(12_000.0, "N/(m/s)", "E", DRIVER_TUNING)
    ki_n_per_m: float = sourced(3_000.0, "N/m", "E", DRIVER_TUNING)
    motor_peak_torque_nm: float = sourced(1000.0, "N*m", "E", "reference §4.2: 900–1000 N·m peak")
    regen_limit_motor_nm: float = sourced(
        -500.0, "N*m", "E", "reference §2.1 INV-13: regen at -50 % of the torque command range"
    )
    regen_full_above_kmh: float = sourced(10.0, "km/h", "E", "regen fades out below this speed")
    regen_zero_below_kmh: float = sourced(3.0, "km/h", "E", "no regen below this: the bus stops on friction")
    stop_hold_below_kmh: float = sourced(0.5, "km/h", "E", "with a zero target, held on the service brake")


@dataclass(frozen=True)
class DriverCommand:
    motor_torque_nm: float
    brake_force_n: float
    demand_n: float  # the tractive force the driver wants at the tyres, before the limits

    @property
    def regen(self) -> bool:
        return self.motor_torque_nm < 0.0


class DriverModel:
    def __init__(self, vehicle: VehicleParameters, parameters: DriverParameters | None = None) -> None:
        self.vehicle = vehicle
        self.parameters = parameters or DriverParameters()
        self.integral_n = 0.0

    def regen_limit_nm(self, speed_mps: float) -> float:
        """The most negative motor torque the driver asks for at this speed."""
        p = self.parameters
        kmh = speed_mps * 3.6
        span = p.regen_full_above_kmh - p.regen_zero_below_kmh
        share = min(max((kmh - p.regen_zero_below_kmh) / span, 0.0), 1.0)
        return p.regen_limit_motor_nm * share

    def update(
        self,
        target_mps: float,
        target_acceleration_mps2: float,
        speed_mps: float,
        road_load_n: float,
        gear_ratio: float,
        dt_s: float,
    ) -> DriverCommand:
        if not gear_ratio > 0.0 or not math.isfinite(gear_ratio):
            raise ValueError(f"driver: gear ratio {gear_ratio!r} (motor over output speed) must be > 0")
        p, v = self.parameters, self.vehicle
        if target_mps <= 0.0 and speed_mps * 3.6 <= p.stop_hold_below_kmh:
            self.integral_n = 0.0
            return DriverCommand(0.0, v.max_brake_force_n, 0.0)
        error = target_mps - speed_mps
        feed_forward = v.effective_mass_kg * target_acceleration_mps2 + road_load_n
        integral = self.integral_n + p.ki_n_per_m * error * dt_s
        demand = feed_forward + p.kp_n_per_mps * error + integral
        most = v.wheel_force_n(p.motor_peak_torque_nm * gear_ratio)
        regen = v.wheel_force_n(self.regen_limit_nm(speed_mps) * gear_ratio)
        brake = 0.0
        if demand > most:
            drive, winding_up = most, error > 0.0
        elif demand >= regen:
            drive, winding_up = demand, False
        else:
            drive, brake = regen, regen - demand
            winding_up = brake > v.max_brake_force_n and error < 0.0
            brake = min(brake, v.max_brake_force_n)
        if not winding_up:
            self.integral_n = integral
        motor = v.shaft_torque_nm(drive) / gear_ratio
        return DriverCommand(motor, brake, demand)
