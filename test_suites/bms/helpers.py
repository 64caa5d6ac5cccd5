"""What the BMS scenarios share: the BMS's CAN signals by name, instrument read-backs sampled in the
plant loop, the first frame after an event, a pack model on the bench with a weak cell, and the drive
held at a DC current against the dyno.

Times are ``time.monotonic()`` throughout: the CAN monitor stamps each frame's arrival with it, and
the read-back probes stamp their samples with it, so an event seen on CAN and a stimulus read back
from an instrument are on one time base.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hil.dut.monitor import Decoded
from hil.models import CellDeviation, PackEmulation, PackModel
from hil.models.lfp_cell import ocv_v
from hil.timing import dwell

# BMS_Status.ContactorState (dbc/README.md)
OPEN, PRECHARGE, CLOSED, WELDED, PRECHARGE_FAILED = 0, 1, 2, 3, 4

PROBE_EVERY = 5  # read-backs every 5th step of the 100 Hz loop: 20 samples a second


@dataclass
class Samples:
    """Time-stamped read-backs of one quantity: ``t_s`` (monotonic), ``values``."""

    t_s: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, t_s: float, value: float) -> None:
        self.t_s.append(t_s)
        self.values.append(value)

    @property
    def last(self) -> float:
        return self.values[-1] if self.values else math.nan

    def at(self, t_s: float) -> float:
        """Linear interpolation at ``t_s``; NaN outside what was sampled."""
        if not self.t_s or t_s < self.t_s[0] or t_s > self.t_s[-1]:
            return math.nan
        return float(np.interp(t_s, self.t_s, self.values))

    def crossing(self, level: float, rising: bool, after_s: float = -math.inf) -> float | None:
        """The first time after ``after_s`` the values pass ``level`` (interpolated), None if never."""
        start = bisect.bisect_left(self.t_s, after_s)
        for i in range(max(start, 1), len(self.values)):
            v0, v1 = self.values[i - 1], self.values[i]
            if (v0 < level <= v1) if rising else (v0 > level >= v1):
                t0, t1 = self.t_s[i - 1], self.t_s[i]
                return t0 + (t1 - t0) * (level - v0) / (v1 - v0)
        return None


class ReadBack:
    """A plant-loop step that reads an instrument back every ``every`` steps into ``samples``:
    ``read()`` returns the value (a channel's voltage, the supply's current ...)."""

    def __init__(self, name: str, read: Callable[[], float], every: int = PROBE_EVERY) -> None:
        self.name, self.read, self.every = name, read, every
        self.samples = Samples()
        self._steps = 0

    def step(self, t_s: float, dt_s: float) -> None:
        if self._steps % self.every == 0:
            self.samples.add(time.monotonic(), float(self.read()))
        self._steps += 1


def opened(frame: Decoded) -> bool:
    """BMS_Status: the contactors are no longer closed or closing (open, welded or latched open)."""
    return frame["ContactorState"] not in (PRECHARGE, CLOSED)


# --- the pack model on the bench ----------------------------------------------------------------


@dataclass
class WeakCell:
    """One cell of the sense board unlike the rest: ``channel`` (1-based) on the cell simulator,
    ``capacity_ah`` left of it, and the state of charge it starts at."""

    channel: int
    capacity_ah: float
    soc: float

    def deviation(self, pack_soc: float, nominal_ah: float) -> CellDeviation:
        return CellDeviation(
            self.channel - 1, capacity_factor=self.capacity_ah / nominal_ah, soc_offset=self.soc - pack_soc
        )


def ocv_slope_v(soc: float) -> float:
    """dOCV/dSOC of the pack model's cell at ``soc``, V per unit SOC (a central difference)."""
    step = 2e-4
    return float(ocv_v(soc + step) - ocv_v(soc - step)) / (2 * step)


def current_for_rate(pack: PackModel, index: int, rate_v_per_s: float) -> float:
    """The current (A) that moves cell ``index``'s resting voltage at ``rate_v_per_s``."""
    slope = ocv_slope_v(float(pack.soc[index]))
    return abs(rate_v_per_s) / slope * 3600.0 * float(pack.capacity_ah[index])


def slow_near(levels: Sequence[tuple[float, float]], slow: float, fast: float) -> Callable[[float], float]:
    """A ramp rate by where the ramped voltage is: ``slow`` inside any (low, high) band of
    ``levels``, ``fast`` elsewhere; so each threshold is crossed slowly and the gaps quickly."""

    def rate(value: float) -> float:
        return slow if any(low <= value <= high for low, high in levels) else fast

    return rate


@dataclass
class PackOnBench:
    """The pack model and its emulation, and the read-back of the weak cell's channel."""

    pack: PackModel
    emulation: PackEmulation
    cell: Samples
    loop: Any


def start_pack(
    drive: Any,
    plant_loop: Callable[..., Any],
    supply: Any,
    cellsim: Any,
    pack: PackModel,
    weak: WeakCell,
    *,
    charger_a: Callable[[], float] | None = None,
    extra_steps: Sequence[Any] = (),
) -> PackOnBench:
    """The pack model in the loop (pack emulation, the weak cell's channel read back, and
    ``extra_steps``), the bench's bring-up taking its voltages from it."""
    emulation = PackEmulation(pack, supply, cellsim, charger_a=charger_a)
    channels = cellsim.channels
    drive.emulate_pack(
        lambda: pack.cell_voltages_v[:channels].tolist(), lambda: float(pack.terminal_voltage_v)
    )
    probe = ReadBack("weak_cell", lambda: cellsim.measure_voltages()[weak.channel - 1])
    loop = plant_loop(emulation, probe, *extra_steps)
    return PackOnBench(pack, emulation, probe.samples, loop)


# --- the drive as a DC load ---------------------------------------------------------------------

DRIVE_OUTPUT_RPM = 600.0  # 1st gear, below its upshift at any torque [E: tx schedule]
AMPS_PER_NM = 0.21  # about what the drive draws per N·m at 600 rpm output (a first guess) [E]


def hold_dc_current(
    vcu: Any, analyzer: Any, target_a: float, *, tolerance_a: float, timeout_s: float = 5.0
) -> float:
    """Trim the torque request until the analyzer's I4 (the current into the inverter's DC input)
    is within ``tolerance_a`` of ``target_a``; returns the torque asked for."""
    torque = target_a / AMPS_PER_NM
    deadline = time.monotonic() + timeout_s
    while True:
        vcu.request_torque(torque)
        dwell(0.15)
        (current,) = analyzer.read_numeric([("IDC", 4)])
        if abs(current - target_a) <= tolerance_a:
            return torque
        if time.monotonic() > deadline:
            raise AssertionError(f"the drive draws {current:.1f} A at {torque:.0f} N·m, not {target_a:.1f} A")
        torque *= target_a / current if abs(current) > 1.0 else 1.5
