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
from hil.timing import dwell, wait_until

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
    ``capacity_ah`` left of it, the state of charge it starts at and how much its R0 has grown."""

    channel: int
    capacity_ah: float
    soc: float
    r0_factor: float = 1.0

    def deviation(self, pack_soc: float, nominal_ah: float) -> CellDeviation:
        return CellDeviation(
            self.channel - 1,
            capacity_factor=self.capacity_ah / nominal_ah,
            r0_factor=self.r0_factor,
            soc_offset=self.soc - pack_soc,
        )


def ocv_slope_v(soc: float) -> float:
    """dOCV/dSOC of the pack model's cell at ``soc``, V per unit SOC (a central difference)."""
    step = 2e-4
    return float(ocv_v(soc + step) - ocv_v(soc - step)) / (2 * step)


def current_for_rate(pack: PackModel, index: int, rate_v_per_s: float) -> float:
    """The current (A) that moves cell ``index``'s resting voltage at ``rate_v_per_s``."""
    slope = ocv_slope_v(float(pack.soc[index]))
    return abs(rate_v_per_s) / slope * 3600.0 * float(pack.capacity_ah[index])


class BandedRate:
    """A ramp rate by where the ramped voltage is: inside a (low, high, rate) band its rate, ``fast``
    elsewhere; each threshold is crossed slowly, the gaps between them quickly. A band once entered
    holds until the voltage leaves it on its far side: slowing the current lifts (or drops) a cell by
    its I·R, which must not throw it back out of the band it just entered."""

    def __init__(self, bands: Sequence[tuple[float, float, float]], fast: float, *, rising: bool) -> None:
        self.bands, self.fast, self.rising = list(bands), fast, rising
        self._held: tuple[float, float, float] | None = None

    def __call__(self, value: float) -> float:
        held = self._held
        if held is not None and (value <= held[1] if self.rising else value >= held[0]):
            return held[2]
        self._held = next((b for b in self.bands if b[0] <= value <= b[1]), None)
        return self.fast if self._held is None else self._held[2]


class CellRamp:
    """Moves one cell of the pack model at a rate that depends on where it is (``rate(v)``, V/s): the
    pack current that does it is recomputed each step from the cell's OCV slope and capacity."""

    def __init__(self, pack: PackModel, index: int, rate: Callable[[float], float], max_a: float) -> None:
        self.pack, self.index, self.rate, self.max_a = pack, index, rate, max_a
        self.running = False

    def current_a(self) -> float:
        """The pack current (magnitude, A) the ramp wants now; 0 once stopped."""
        if not self.running:
            return 0.0
        cell_v = float(self.pack.cell_voltages_v[self.index])
        return min(current_for_rate(self.pack, self.index, self.rate(cell_v)), self.max_a)

    def resting_v(self) -> float:
        """The cell's voltage at rest now (the model's OCV at its SOC): where it settles once the
        current, and the I·R it adds, are gone."""
        return float(ocv_v(float(self.pack.soc[self.index])))

    def stop(self) -> None:
        self.running = False


def charger(ramp: CellRamp, emulation: PackEmulation) -> Callable[[], float]:
    """An emulated charger's current for ``PackEmulation(charger_a=...)``: what the ramp wants into
    the pack, plus what the supply delivers meanwhile (the drive's idle draw), which the charger
    carries too."""
    return lambda: max(0.0, ramp.current_a() + emulation.measured_current_a) if ramp.running else 0.0


LOAD_POWER_W = 5400.0  # the e-load's 6 kW (63206A-1200-240) less a margin: it sinks no more


class LoadRamp:
    """A plant-loop step that discharges the pack through the e-load at what the ramp wants, less what
    the supply delivers to the drive meanwhile, and never above ``LOAD_POWER_W`` at the pack's
    voltage; the set point is sent when it moves by more than ``resolution_a``, and the load is
    switched off once the ramp stops."""

    name = "load_ramp"

    def __init__(
        self, ramp: CellRamp, eload: Any, emulation: PackEmulation, resolution_a: float = 0.1
    ) -> None:
        self.ramp, self.eload, self.emulation, self.resolution_a = ramp, eload, emulation, resolution_a
        self._sent = 0.0
        self._on = False

    def step(self, t_s: float, dt_s: float) -> None:
        if not self.ramp.running:
            if self._on:
                self.eload.load_off()
                self._on = False
            return
        # the drive's draw: what the supply gives besides the load, never below zero (a load that
        # sinks less than it was told must not be told more and more)
        drive_a = max(0.0, self.emulation.measured_current_a - (self._sent if self._on else 0.0))
        most_a = LOAD_POWER_W / max(float(self.emulation.pack.terminal_voltage_v), 1.0)
        wanted = min(max(0.0, self.ramp.current_a() - drive_a), most_a)
        if abs(wanted - self._sent) >= self.resolution_a or not self._on:
            self.eload.set_current(wanted)
            self._sent = wanted
        if not self._on:
            self.eload.load_on()
            self._on = True


class ChannelsReadBack:
    """A plant-loop step that reads every cell-simulator channel back every ``every`` steps: one
    channel's voltage (``cell``) and the spread of all of them (``spread``, highest less lowest)."""

    name = "channels"

    def __init__(self, cellsim: Any, channel: int, every: int = PROBE_EVERY) -> None:
        self.cellsim, self.index, self.every = cellsim, channel - 1, every
        self.cell, self.spread = Samples(), Samples()
        self._steps = 0

    def step(self, t_s: float, dt_s: float) -> None:
        if self._steps % self.every == 0:
            voltages = self.cellsim.measure_voltages()
            now = time.monotonic()
            self.cell.add(now, voltages[self.index])
            self.spread.add(now, max(voltages) - min(voltages))
        self._steps += 1


@dataclass
class PackOnBench:
    """The pack model and its emulation, and the read-backs of the weak cell's channel and of the
    spread of all channels."""

    pack: PackModel
    emulation: PackEmulation
    cell: Samples
    spread: Samples
    loop: Any


def start_pack(
    drive: Any,
    plant_loop: Callable[..., Any],
    supply: Any,
    cellsim: Any,
    pack: PackModel,
    weak: WeakCell,
    *,
    charge: CellRamp | None = None,
    discharge: CellRamp | None = None,
    eload: Any = None,
) -> PackOnBench:
    """The pack model in the loop (pack emulation and the weak cell's channel read back), the bench's
    bring-up taking its voltages from it. ``charge`` drives an emulated charger, ``discharge`` the
    ``eload``; both ramps start stopped."""
    emulation = PackEmulation(pack, supply, cellsim)
    steps: list[Any] = [emulation]
    if charge is not None:
        emulation.charger_a = charger(charge, emulation)
    if discharge is not None:
        steps.append(LoadRamp(discharge, eload, emulation))
    channels = cellsim.channels
    drive.emulate_pack(
        lambda: pack.cell_voltages_v[:channels].tolist(), lambda: float(pack.terminal_voltage_v)
    )
    probe = ChannelsReadBack(cellsim, weak.channel)
    loop = plant_loop(*steps, probe)
    return PackOnBench(pack, emulation, probe.cell, probe.spread, loop)


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


# --- a cell ramped through its protection levels ---------------------------------------------------


@dataclass
class LevelEvents:
    """The first frame of each reaction while a cell was ramped, and how far the cell got."""

    warning: Decoded | None = None
    limit_zero: Decoded | None = None
    trip: Decoded | None = None
    furthest_v: float = math.nan


def ramp_through_levels(
    monitor: Any,
    cell: Samples,
    ramp: CellRamp,
    *,
    rising: bool,
    limit_signal: str,
    give_up_v: float,
    since: int,
    timeout_s: float,
    what: str,
) -> LevelEvents:
    """Keep ``ramp`` going until the BMS opens its contactors or the cell passes ``give_up_v``;
    note the first BMS_Status with a warning, the first BMS_Limits with ``limit_signal`` at zero and
    the first BMS_Status with the contactors open. The ramp is stopped on the way out."""
    events = LevelEvents()

    def done() -> bool:
        if events.warning is None:
            events.warning = monitor.first("BMS_Status", lambda f: f["WarningActive"] == 1, since)
        if events.limit_zero is None:
            events.limit_zero = monitor.first("BMS_Limits", lambda f: f[limit_signal] == 0.0, since)
        events.trip = monitor.first("BMS_Status", opened, since)
        passed = cell.last > give_up_v if rising else cell.last < give_up_v
        return events.trip is not None or passed

    try:
        wait_until(done, timeout_s=timeout_s, what=what, poll_s=0.05)
    finally:
        ramp.stop()
    seen = [f.t_s for f in (events.warning, events.limit_zero, events.trip) if f is not None]
    latest = max(seen, default=-math.inf)
    wait_until(
        lambda: cell.t_s[-1], lambda t: t > latest, timeout_s=1.0, what="a read-back after the last event"
    )
    reached = [
        v for t, v in zip(cell.t_s, cell.values, strict=True) if events.trip is None or t <= events.trip.t_s
    ]
    events.furthest_v = max(reached) if rising else min(reached)
    return events


def level_at(cell: Samples, frame: Decoded | None) -> float:
    """The cell's read-back voltage as ``frame`` arrived; NaN for an event that never came."""
    return math.nan if frame is None else cell.at(frame.t_s)


def trip_time_from_a_fast_crossing(
    monitor: Any,
    vcu: Any,
    cell: Samples,
    *,
    back: CellRamp,
    across: CellRamp,
    rearm_v: float,
    level_v: float,
    rising: bool,
    timeout_s: float,
) -> float:
    """After a trip on a slow ramp: ``back`` moves the cell until it rests beyond ``rearm_v`` (inside
    the trip's hysteresis), a fault reset lets the BMS close again (the VCU still asks it to), then
    ``across`` crosses ``level_v`` fast, so the BMS's measurement noise no longer restarts its
    debounce. The time from that crossing to the contactors opening, NaN if it was not seen."""
    back.running = True
    try:
        wait_until(
            back.resting_v,
            (lambda v: v < rearm_v) if rising else (lambda v: v > rearm_v),
            timeout_s=timeout_s,
            what="the cell back inside its trip's hysteresis",
        )
    finally:
        back.stop()
    mark = monitor.mark()
    vcu.fault_reset()
    monitor.wait(
        "BMS_Status",
        lambda f: f["ContactorState"] == CLOSED,
        since=mark,
        timeout_s=timeout_s,
        what="closed again",
    )
    mark = monitor.mark()
    started = time.monotonic()
    across.running = True
    try:
        frame = monitor.wait(
            "BMS_Status", opened, since=mark, timeout_s=timeout_s, what="the fast crossing's trip"
        )
    finally:
        across.stop()
    crossed = cell.crossing(level_v, rising=rising, after_s=started)
    return math.nan if crossed is None else frame.t_s - crossed


def trip_level(cell: Samples, trip: Decoded, trip_time_s: float) -> float:
    """The cell's voltage one trip time (from the fast crossing) before the slow crossing's open:
    where the BMS's debounce began, whatever its length; the voltage at the open if that time is
    unknown."""
    return cell.at(trip.t_s - trip_time_s) if math.isfinite(trip_time_s) else cell.at(trip.t_s)
