"""The shift schedule: upshift and downshift lines over vehicle speed as functions of throttle.

Each gear pair g->g+1 has an upshift speed at three throttle breakpoints (low, mid, high),
linear in between and held flat outside. The downshift g+1->g is the same line less the
hysteresis, so hysteresis is one number for every throttle [E]. Speeds are m/s, throttle a
fraction 0..1.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_GEARS = 4


class ShiftSchedule:
    def __init__(self, params: Mapping[str, float], gear_count: int) -> None:
        self._t_low = params["schedule_throttle_low"]
        self._t_mid = params["schedule_throttle_mid"]
        self._t_high = params["schedule_throttle_high"]
        if not self._t_low < self._t_mid < self._t_high:
            raise ValueError(
                "transmission.schedule_throttle_low < _mid < _high is required, got "
                f"{self._t_low:g}, {self._t_mid:g}, {self._t_high:g}"
            )
        offset = params["upshift_offset"]
        self.hysteresis_m_s = params["downshift_hysteresis"]
        # index g holds the g->g+1 line; index 0 is unused so the gear number is the index
        self._lines: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)]
        for g in range(1, gear_count):
            low, mid, high = (
                params[f"upshift_{g}_{g + 1}_{point}"] + offset for point in ("low", "mid", "high")
            )
            if not low <= mid <= high:
                raise ValueError(
                    f"transmission.upshift_{g}_{g + 1}_low/_mid/_high must not decrease with throttle"
                )
            self._lines.append((low, mid, high))

    def upshift_speed(self, gear: int, throttle: float) -> float:
        """Vehicle speed (m/s) above which ``gear`` shifts up to ``gear + 1``."""
        low, mid, high = self._lines[gear]
        if throttle <= self._t_low:
            return low
        if throttle >= self._t_high:
            return high
        if throttle <= self._t_mid:
            return low + (throttle - self._t_low) / (self._t_mid - self._t_low) * (mid - low)
        return mid + (throttle - self._t_mid) / (self._t_high - self._t_mid) * (high - mid)

    def downshift_speed(self, gear: int, throttle: float) -> float:
        """Vehicle speed (m/s) below which ``gear`` (>= 2) shifts down to ``gear - 1``."""
        return self.upshift_speed(gear - 1, throttle) - self.hysteresis_m_s
