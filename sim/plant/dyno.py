"""The dynamometer's own physics: a four-quadrant load machine on the shaft, free running, in
torque control (first-order torque loop) or in speed control (PI), with latched alarms."""

from __future__ import annotations

import math
from dataclasses import dataclass

FREE, TORQUE, SPEED = "free", "torque", "speed"
ALARM_MARGIN = 0.99


@dataclass(frozen=True)
class DynoRating:
    speed_rpm: float
    torque_nm: float
    power_kw: float


@dataclass(frozen=True)
class DynoTuning:
    speed_kp_nm_per_rad_s: float
    speed_ki_nm_per_rad: float
    torque_time_constant_s: float


class DynoModel:
    def __init__(self, rating: DynoRating, tuning: DynoTuning) -> None:
        self.rating = rating
        self.tuning = tuning
        self.torque_nm = 0.0  # absorbed: positive brakes positive rotation
        self.alarm = False
        self.alarm_causes: set[str] = set()
        self.reset()

    def reset(self) -> None:
        self.mode = FREE
        self.torque_set_nm = 0.0
        self.speed_set_rpm = 0.0
        self._integral_nm = 0.0
        self.alarm_speed_rpm = self.rating.speed_rpm
        self.alarm_torque_nm = self.rating.torque_nm
        self.alarm_power_kw = self.rating.power_kw
        self.alarms_enabled = False
        self.rearm()

    def rearm(self) -> None:
        """Clear the latched alarm and what raised it (the controller's alarms re-enabled)."""
        self.alarm = False
        self.alarm_causes = set()

    def hold_torque(self, torque_nm: float) -> None:
        self.mode, self.torque_set_nm = TORQUE, torque_nm

    def hold_speed(self, speed_rpm: float) -> None:
        if self.mode != SPEED:
            # bumpless transfer: the PI starts from the torque the dyno is applying now
            self._integral_nm = self.torque_nm
        self.mode, self.speed_set_rpm = SPEED, speed_rpm

    def free_run(self) -> None:
        self.mode = FREE

    def update(self, dt_s: float, speed_rad_s: float) -> float:
        """The absorbed torque for the next step."""
        # the load machine's envelope: its rated torque, and above base speed its rated power
        torque_nm, power_kw = self.rating.torque_nm, self.rating.power_kw
        if self.alarms_enabled:
            # the controller keeps its own torque inside the alarm levels the bench programmed [E]: a
            # speed step accelerates the shaft at that torque instead of tripping the alarm, which is
            # left to flag what the dyno did not command (a shaft driven past a limit); 1 % inside, as
            # the speed, and so the power, moves on within a step
            torque_nm = min(torque_nm, ALARM_MARGIN * self.alarm_torque_nm)
            power_kw = min(power_kw, ALARM_MARGIN * self.alarm_power_kw)
        limit = min(torque_nm, power_kw * 1000.0 / max(abs(speed_rad_s), 1e-9))
        if self.mode == SPEED:
            error = speed_rad_s - self.speed_set_rpm * math.pi / 30.0
            proportional = self.tuning.speed_kp_nm_per_rad_s * error
            integral = self._integral_nm + self.tuning.speed_ki_nm_per_rad * error * dt_s
            # anti-windup: the integrator holds while the output is saturated
            if abs(proportional + integral) <= limit:
                self._integral_nm = integral
            self.torque_nm = _clamp(proportional + self._integral_nm, limit)
        else:
            target = self.torque_set_nm if self.mode == TORQUE else 0.0
            lag = 1.0 - math.exp(-dt_s / self.tuning.torque_time_constant_s)
            self.torque_nm = _clamp(self.torque_nm + (target - self.torque_nm) * lag, limit)
        return self.torque_nm

    def check(self, speed_rpm: float) -> None:
        """Latch the alarm, and which limit raised it (speed, torque, power), when one is passed."""
        if not self.alarms_enabled:
            return
        power_kw = self.torque_nm * speed_rpm * math.pi / 30.0 / 1000.0
        for cause, value, limit in (
            ("speed", speed_rpm, self.alarm_speed_rpm),
            ("torque", self.torque_nm, self.alarm_torque_nm),
            ("power", power_kw, self.alarm_power_kw),
        ):
            if abs(value) > limit:
                self.alarm = True
                self.alarm_causes.add(cause)


def _clamp(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))
