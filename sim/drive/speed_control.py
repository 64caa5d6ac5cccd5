"""TSC1 speed control (override control mode 1, SAE J1939-71 [R]): the drive holds the motor at the
requested speed with a PI loop whose output is its torque request (INV-07).

The loop starts from the torque the drive is producing when speed control begins (bumpless), and
its integrator holds while the output sits at the drive's torque limit (anti-windup), so a load
that the drive cannot hold does not leave a wound-up integrator behind.
"""

from __future__ import annotations

from collections.abc import Mapping


class SpeedController:
    """PI on the motor speed (rad/s) to a torque request (N·m); gains from the ``inverter`` section."""

    def __init__(self, inverter: Mapping[str, float]) -> None:
        self.kp = inverter["speed_loop_kp"]
        self.ki = inverter["speed_loop_ki"]
        self._integral_nm = 0.0

    def start(self, torque_nm: float) -> None:
        """Speed control begins while the drive produces ``torque_nm``."""
        self._integral_nm = torque_nm

    def update(
        self, dt_s: float, target_rad_s: float, speed_rad_s: float, low_nm: float, high_nm: float
    ) -> float:
        """The torque request for the next step, inside [low_nm, high_nm]."""
        error = target_rad_s - speed_rad_s
        proportional = self.kp * error
        integral = self._integral_nm + self.ki * error * dt_s
        if low_nm <= proportional + integral <= high_nm:
            self._integral_nm = integral
        return min(max(proportional + self._integral_nm, low_nm), high_nm)
