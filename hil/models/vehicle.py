"""The vehicle road-load model: the longitudinal dynamics of a 12 m city bus behind the drive.

What it holds: mass with payload and a rotating-mass factor, rolling resistance, aerodynamic drag,
a grade (percent, settable while it runs), wheel radius and final drive, the service brake, and
the state: speed, acceleration, distance. What it is fed each step: the torque the drive delivers
on the transmission output shaft (as the dyno measures it) and a service-brake force request.
What it gives: the speed of the output shaft the emulated bus would turn it at (the dyno's speed
set point), the road-load force and its torque at the output shaft.

The framework declares its own axle and tyres (they match the transmission's design figures of the
unit's profile, but the framework never reads the simulator). Only what turns downstream of the
output shaft is in the rotating-mass factor: the drive's rotor and gearbox turn on the bench and
load the shaft the dyno measures.

The bus does not reverse: at standstill a net backward force (a grade, a negative torque) is held,
as the driver holds the service brake at a stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hil.models.figures import sourced

STANDARD_GRAVITY = 9.80665  # m/s² [S: ISO 80000-3 standard acceleration of free fall]


@dataclass(frozen=True)
class VehicleParameters:
    curb_mass_kg: float = sourced(12_500.0, "kg", "E", "12 m low-floor city bus, typical 11–13 t")
    payload_kg: float = sourced(
        5_500.0,
        "kg",
        "E",
        "≈ 80 passengers × 68 kg (68 kg per passenger [R: UN R107]); 18 t in all as reference §4.2",
    )
    rotating_mass_factor: float = sourced(
        1.04, "ratio", "E", "wheels, tyres, hubs and final drive only (the drive's rotor turns on the bench)"
    )
    rolling_resistance: float = sourced(0.008, "ratio", "E", "bus tyres on asphalt, 0.006–0.010")
    air_density_kg_per_m3: float = sourced(1.2, "kg/m3", "R", "air at 20 °C, 1013 hPa")
    drag_area_m2: float = sourced(4.9, "m2", "E", "Cd 0.65 × frontal area 7.5 m² (2.55 m × 2.95 m)")
    wheel_radius_m: float = sourced(0.48, "m", "E", "dynamic rolling radius, 275/70 R22.5 bus tyre")
    final_drive_ratio: float = sourced(10.9, "ratio", "E", "axle with hub reduction, output shaft to wheel")
    final_drive_efficiency: float = sourced(0.97, "ratio", "E", "axle with hub reduction")
    max_brake_deceleration_mps2: float = sourced(
        5.0, "m/s2", "R", "UN R13 type-0 service braking of an M3 vehicle: at least 5.0 m/s²"
    )

    @property
    def mass_kg(self) -> float:
        return self.curb_mass_kg + self.payload_kg

    @property
    def effective_mass_kg(self) -> float:
        return self.mass_kg * self.rotating_mass_factor

    @property
    def max_brake_force_n(self) -> float:
        return self.mass_kg * self.max_brake_deceleration_mps2

    def wheel_force_n(self, shaft_torque_nm: float) -> float:
        """Tractive force at the tyres from the output-shaft torque; the axle loses either way."""
        ratio = self.final_drive_ratio / self.wheel_radius_m
        if shaft_torque_nm >= 0.0:
            return shaft_torque_nm * ratio * self.final_drive_efficiency
        return shaft_torque_nm * ratio / self.final_drive_efficiency

    def shaft_torque_nm(self, wheel_force_n: float) -> float:
        """Output-shaft torque that gives ``wheel_force_n`` at the tyres (inverse of wheel_force_n)."""
        ratio = self.wheel_radius_m / self.final_drive_ratio
        if wheel_force_n >= 0.0:
            return wheel_force_n * ratio / self.final_drive_efficiency
        return wheel_force_n * ratio * self.final_drive_efficiency

    def road_load_n(self, speed_mps: float, grade_percent: float) -> float:
        """Rolling resistance (while moving), aerodynamic drag and grade, + = against forward motion."""
        theta = math.atan(grade_percent / 100.0)
        weight = self.mass_kg * STANDARD_GRAVITY
        rolling = self.rolling_resistance * weight * math.cos(theta) if speed_mps > 0.0 else 0.0
        aero = 0.5 * self.air_density_kg_per_m3 * self.drag_area_m2 * speed_mps * speed_mps
        return rolling + aero + weight * math.sin(theta)

    def shaft_speed_rpm(self, speed_mps: float) -> float:
        return speed_mps / self.wheel_radius_m * self.final_drive_ratio * 30.0 / math.pi


class VehicleModel:
    """A bus on the road; ``step`` integrates its speed over a step with the measured shaft torque."""

    def __init__(
        self,
        parameters: VehicleParameters | None = None,
        *,
        speed_kmh: float = 0.0,
        grade_percent: float = 0.0,
    ) -> None:
        self.parameters = parameters or VehicleParameters()
        self.speed_mps = 0.0
        self.set_speed_kmh(speed_kmh)
        self.grade_percent = grade_percent
        self.brake_force_n = 0.0  # the service brake request; held at the brakes' limit
        self.acceleration_mps2 = 0.0
        self.distance_m = 0.0
        self.shaft_torque_nm = 0.0

    def set_speed_kmh(self, speed_kmh: float) -> None:
        """Put the bus at a speed (e.g. the speed the dyno already turns at before the loop starts)."""
        if not math.isfinite(speed_kmh) or speed_kmh < 0.0:
            raise ValueError(
                f"vehicle speed {speed_kmh!r} km/h: a finite speed >= 0 (the bus does not reverse)"
            )
        self.speed_mps = speed_kmh / 3.6

    def step(self, shaft_torque_nm: float, dt_s: float) -> None:
        """Advance by ``dt_s`` with the drive's torque on the output shaft (+ = driving forward)."""
        if not (math.isfinite(shaft_torque_nm) and math.isfinite(dt_s)) or dt_s < 0.0:
            raise ValueError(f"vehicle step: shaft_torque_nm={shaft_torque_nm!r}, dt_s={dt_s!r}")
        p = self.parameters
        grade = self.grade_percent
        v = self.speed_mps
        brake = min(max(self.brake_force_n, 0.0), p.max_brake_force_n)
        drive = p.wheel_force_n(shaft_torque_nm)
        if v > 0.0:
            force = drive - p.road_load_n(v, grade) - brake
            v_new = max(v + force / p.effective_mass_kg * dt_s, 0.0)  # friction stops, never reverses
        else:
            theta = math.atan(grade / 100.0)
            push = drive - p.road_load_n(0.0, grade)
            # breakaway: the push has to overcome rolling resistance and the brake before it moves
            hold = p.rolling_resistance * p.mass_kg * STANDARD_GRAVITY * math.cos(theta) + brake
            v_new = (push - hold) / p.effective_mass_kg * dt_s if push > hold else 0.0
        self.acceleration_mps2 = (v_new - v) / dt_s if dt_s > 0.0 else 0.0
        self.distance_m += 0.5 * (v + v_new) * dt_s
        self.speed_mps = v_new
        self.shaft_torque_nm = shaft_torque_nm

    # --- outputs ---------------------------------------------------------------------------------
    @property
    def speed_kmh(self) -> float:
        return self.speed_mps * 3.6

    @property
    def shaft_speed_rpm(self) -> float:
        """The output-shaft speed the emulated bus turns it at: the dyno's speed set point."""
        return self.parameters.shaft_speed_rpm(self.speed_mps)

    @property
    def road_load_n(self) -> float:
        """Road load at the present speed and grade, + = against forward motion."""
        return self.parameters.road_load_n(self.speed_mps, self.grade_percent)

    @property
    def road_load_torque_nm(self) -> float:
        """The road load as a torque on the output shaft: what the drive must deliver to hold speed."""
        return self.parameters.shaft_torque_nm(self.road_load_n)
