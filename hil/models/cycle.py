"""Drive cycles: a published speed trace over time, as data in ``hil/models/cycles/``.

A cycle file is CSV: comment lines (``#``) first, naming the trace's source exactly, then a header
``time_s,speed_kmh`` or ``time_s,speed_mph`` and one row per sample, time strictly rising from 0.
Values stay as the source gives them; the unit conversion happens here.

The package holds the Braunschweig City Driving Cycle (``braunschweig``), a published city-bus
cycle. The China city bus cycle (CCBC, GB/T 19754: 1314 s, 60 km/h peak) is the one the design
names; a CCBC file dropped in the same folder in the same format loads as ``DriveCycle.load("ccbc")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CYCLES_DIR = Path(__file__).parent / "cycles"
MPH_TO_KMH = 1.609344  # exact, by the international yard


@dataclass(frozen=True)
class DriveCycle:
    name: str
    time_s: np.ndarray
    speed_kmh: np.ndarray
    source: str

    @classmethod
    def load(cls, name_or_path: str | Path) -> DriveCycle:
        """A packaged cycle by name (``"braunschweig"``) or any cycle file by path."""
        path = Path(name_or_path)
        if path.suffix != ".csv":
            path = CYCLES_DIR / f"{name_or_path}.csv"
            if not path.exists():
                known = ", ".join(sorted(p.stem for p in CYCLES_DIR.glob("*.csv")))
                raise ValueError(f"no drive cycle {name_or_path!r}; packaged: {known}")
        return cls._parse(path)

    @classmethod
    def braunschweig(cls) -> DriveCycle:
        return cls.load("braunschweig")

    @classmethod
    def _parse(cls, path: Path) -> DriveCycle:
        lines = path.read_text(encoding="utf-8").splitlines()
        comments = [line[1:].strip() for line in lines if line.startswith("#")]
        rows = [(number, line) for number, line in enumerate(lines, 1) if line and not line.startswith("#")]
        if not comments:
            raise ValueError(f"{path}: no comment lines naming the trace's source")
        if not rows:
            raise ValueError(f"{path}: no header and no samples")
        header_line, header = rows[0]
        scales = {"time_s,speed_kmh": 1.0, "time_s,speed_mph": MPH_TO_KMH}
        if header.strip() not in scales:
            raise ValueError(f"{path}:{header_line}: header {header!r} is not one of {', '.join(scales)}")
        times, speeds = [], []
        for number, line in rows[1:]:
            parts = line.split(",")
            try:
                t, v = (float(x) for x in parts)
            except ValueError:
                raise ValueError(f"{path}:{number}: {line!r} is not 'time,speed'") from None
            if not (math.isfinite(t) and math.isfinite(v)) or v < 0.0:
                raise ValueError(f"{path}:{number}: {line!r}: need finite values and speed >= 0")
            if times and t <= times[-1]:
                raise ValueError(f"{path}:{number}: time {t:g} does not rise from {times[-1]:g}")
            times.append(t)
            speeds.append(v)
        if len(times) < 2 or times[0] != 0.0:
            raise ValueError(f"{path}: a cycle needs at least two samples, starting at time 0")
        return cls(
            name=path.stem,
            time_s=np.array(times),
            speed_kmh=np.array(speeds) * scales[header.strip()],
            source=" ".join(comments),
        )

    # --- the trace ---------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1])

    @property
    def max_speed_kmh(self) -> float:
        return float(self.speed_kmh.max())

    @property
    def distance_km(self) -> float:
        mean_kmh = 0.5 * (self.speed_kmh[1:] + self.speed_kmh[:-1])
        return float(np.sum(mean_kmh * np.diff(self.time_s))) / 3600.0

    def speed_kmh_at(self, t_s: float) -> float:
        """Target speed at ``t_s`` from the cycle's start, linear between samples; 0 outside."""
        if t_s < 0.0 or t_s > self.duration_s:
            return 0.0
        return float(np.interp(t_s, self.time_s, self.speed_kmh))

    def acceleration_mps2_at(self, t_s: float) -> float:
        """Slope of the trace at ``t_s`` (the segment it lies on), for the driver's feed-forward."""
        if t_s < 0.0 or t_s >= self.duration_s:
            return 0.0
        i = int(np.searchsorted(self.time_s, t_s, side="right")) - 1
        dv = self.speed_kmh[i + 1] - self.speed_kmh[i]
        return float(dv / 3.6 / (self.time_s[i + 1] - self.time_s[i]))

    def segment(self, start_s: float, end_s: float) -> DriveCycle:
        """The part from ``start_s`` to ``end_s``, re-timed to start at 0."""
        if not 0.0 <= start_s < end_s <= self.duration_s:
            raise ValueError(f"segment [{start_s:g}, {end_s:g}] s is not inside 0..{self.duration_s:g} s")
        inside = (self.time_s > start_s) & (self.time_s < end_s)
        times = np.concatenate(([start_s], self.time_s[inside], [end_s]))
        speeds = np.interp(times, self.time_s, self.speed_kmh)
        return DriveCycle(f"{self.name}[{start_s:g}:{end_s:g}]", times - start_s, speeds, self.source)
