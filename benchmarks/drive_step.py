"""Cost of one inverter + motor model step (``python -m benchmarks drive_step``)."""

from __future__ import annotations

import math
import time

from sim.drive.golden import golden_sections
from sim.drive.model import DriveInputs, InverterMotor


def per_step_us(speed_ripple_rad_s: float, steps: int) -> float:
    sections = golden_sections()
    drive = InverterMotor(sections["motor"], sections["inverter"], sections["protection"])
    dt = 1e-3
    speed = 1500.0 * math.pi / 30.0
    inputs = [
        DriveInputs(
            (k + 1) * dt,
            400.0 if k % 400 < 200 else -200.0,
            speed + speed_ripple_rad_s * (k % 7),
            540.0,
            60.0,
        )
        for k in range(steps)
    ]
    start = time.perf_counter()
    for u in inputs:
        drive.step(dt, u)
    return (time.perf_counter() - start) / steps * 1e6


def main(argv: list[str] | None = None, steps: int = 20000) -> None:
    print(f"drive step, steady speed and link: {per_step_us(0.0, steps):.1f} µs")
    print(f"drive step, speed changing every step: {per_step_us(0.01, steps):.1f} µs")


if __name__ == "__main__":
    main()
