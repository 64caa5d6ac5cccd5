"""The transmission as the bench sees it, for the transmission scenarios.

- Shift commands and their ends come from ETC1's shift-in-process flag (SPN 574, every 10 ms): a
  shift is timed between the midpoints of the frames around each edge, so an edge is placed within
  ±5 ms. Which gears a shift went between comes from the input over the output shaft speed (ETC1,
  SPN 161 / 191) just before and just after it, matched to the product's gear ratios: the gear
  numbers ETC2 reports are what TX-06 checks, so no other scenario relies on them.
- The vehicle speed at a shift command is CCVS1's (SPN 84, every 100 ms), carried on from the two
  frames before it.
- The throttle is the torque request over the peak torque (the TCU's view); the TSC1 carries whole
  percent of the reference torque, so a throttle is sent as the largest request that does not
  exceed it.
- On the road, the bench's dyno presents the bus (``hil.models.RoadLoadEmulation``) and a recorder
  keeps what the dyno read at each step of the loop, with the wall-clock time CAN frames carry.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hil.dut.gear import NOT_SHIFTING, engaged_gear
from hil.dut.monitor import CanMonitor, Decoded
from hil.dut.vcu import Vcu
from hil.models import RoadLoadEmulation, VehicleModel
from hil.models.loop import PlantLoop
from hil.product import Product
from hil.strategy import DriveStrategy
from hil.timing import wait_until

NEUTRAL = 0
# a TSC1 sender starved on a loaded machine may hold its next frame a while; the scenarios time
# from the frame itself, so a late one costs only the wait
TSC1_WAIT_S = 1.0
TSC1_POLL_S = 0.002
# a safe state that stopped the shaft with the drive off leaves a shift waiting in neutral, which the
# drive finishes once it is back; each standstill downshift after it waits out the TCU's least shift
# interval (3 s [E]): from 3rd, two shifts and two intervals
STANDSTILL_GEAR_TIMEOUT_S = 10.0
# how long a scenario waits for a shift to end before it goes on: ten times the longest shift the
# spec allows (tx.shift.time_s), so a slow shift ends inside the scenario and fails its measurement
# instead of stopping the scenario on a wait
SHIFT_OVER_S = 10.0


@dataclass(frozen=True)
class Mark:
    """A point in the CAN traffic, and the latest ETC1 frame then if no shift was in process."""

    sequence: int
    idle_frame: Decoded | None


@dataclass(frozen=True)
class Shift:
    """One shift as ETC1 showed it; ``end_s`` is NaN while it is still in process."""

    start_s: float
    end_s: float
    from_gear: int
    to_gear: int
    speed_kmh: float  # CCVS1 at the shift command

    @property
    def time_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def up(self) -> bool:
        return self.to_gear > self.from_gear


class Gearbox:
    def __init__(self, product: Product, monitor: CanMonitor, vcu: Vcu) -> None:
        self.monitor, self.vcu = monitor, vcu
        self.product = product
        self.ratios = product.gear_ratios()
        self.peak_torque_nm = product.value("peak_torque", "N*m")
        self.reference_torque_nm = product.value("reference_torque", "N*m")
        tsc1 = monitor.db.get_message_by_name("TSC1").get_signal_by_name("RequestedTorqueLimit")
        # the signal counts percent of the reference torque (dbc/README.md)
        self.request_step_nm = float(tsc1.scale) * self.reference_torque_nm / 100.0

    # --- the pedal -------------------------------------------------------------------------------
    def torque_nm(self, throttle: float) -> float:
        """The torque request for ``throttle`` (0..1 of the peak torque) on the TSC1's grid."""
        steps = math.floor(throttle * self.peak_torque_nm / self.request_step_nm + 1e-9)
        return steps * self.request_step_nm

    def throttle(self, throttle: float) -> float:
        """Ask for ``throttle`` and wait until the drive echoes it (EEC1 driver's demand, SPN 512);
        the time the first TSC1 frame carrying it went to the bus."""
        mark = self.monitor.mark()
        torque_nm = self.torque_nm(throttle)
        request = self.vcu.request_torque(torque_nm)
        sent = self.vcu.wait_sent(
            request,
            timeout_s=TSC1_WAIT_S,
            poll_s=TSC1_POLL_S,
            what=f"a TSC1 frame carrying {throttle:.0%} throttle",
        )
        percent = round(100.0 * torque_nm / self.reference_torque_nm)
        self.monitor.wait(
            "EEC1",
            lambda f: f["DriversDemandPercentTorque"] == percent,
            since=mark,
            timeout_s=TSC1_WAIT_S,
            what=f"the drive's EEC1 echoing a demand of {percent} % ({throttle:.0%} throttle)",
        )
        return sent

    # --- the start of every scenario -----------------------------------------------------------------
    def ready(self, drive: DriveStrategy) -> None:
        """The drive ready and the TCU standing idle in 1st, whatever gear the last scenario left."""
        drive.transition("drive_ready")
        wait_until(
            lambda: engaged_gear(self.monitor, self.product),
            lambda gear: gear == 1,
            timeout_s=STANDSTILL_GEAR_TIMEOUT_S,
            what="the TCU idle in 1st at standstill (ETC2 actual gear ratio, ETC1)",
        )

    # --- gears from the shaft speeds ---------------------------------------------------------------
    def gear_of(self, input_rpm: float, output_rpm: float) -> int:
        """The product gear whose ratio is nearest input over output speed; 0 with the output still."""
        if output_rpm <= 0.0:
            return NEUTRAL
        return self.product.gear_of_ratio(input_rpm / output_rpm)

    def _gear_of(self, etc1: Decoded) -> int:
        return self.gear_of(etc1["InputShaftSpeed"], etc1["OutputShaftSpeed"])

    # --- shifts from ETC1 --------------------------------------------------------------------------
    def mark(self) -> Mark:
        sequence = self.monitor.mark()
        latest = self.monitor.latest("ETC1")
        idle = latest is not None and latest["ShiftInProcess"] == NOT_SHIFTING
        return Mark(sequence, latest if idle else None)

    def next_shift(self, since: Mark, *, timeout_s: float, what: str) -> float:
        """Wait for the first shift command after ``since`` (a shift in process at the mark does not
        count); its time, midway between the last ETC1 frame without and the first with the flag."""
        idle = [since.idle_frame]

        def started(frame: Decoded) -> bool:
            if frame["ShiftInProcess"] == NOT_SHIFTING:
                idle[0] = frame
                return False
            return idle[0] is not None

        first = self.monitor.wait("ETC1", started, since=since.sequence, timeout_s=timeout_s, what=what)
        return 0.5 * (idle[0].t_s + first.t_s)

    def wait_in_gear(self, gear: int, *, timeout_s: float, what: str) -> None:
        """Wait until ETC1 shows no shift in process and its shaft speeds in ``gear``."""
        self.monitor.wait(
            "ETC1",
            lambda f: f["ShiftInProcess"] == NOT_SHIFTING and self._gear_of(f) == gear,
            timeout_s=timeout_s,
            what=what,
        )

    def wait_idle(self, *, timeout_s: float, what: str) -> float:
        """Wait until ETC1 says no shift is in process; the time it did."""
        return self.monitor.wait(
            "ETC1", lambda f: f["ShiftInProcess"] == NOT_SHIFTING, timeout_s=timeout_s, what=what
        ).t_s

    def shifts(self, since: Mark) -> list[Shift]:
        """Every shift whose command came after ``since``."""
        etc1 = self.monitor.frames("ETC1", since.sequence)
        ccvs1 = self.monitor.frames("CCVS1", since.sequence)
        speed_t = np.array([f.t_s for f in ccvs1])
        speed_kmh = np.array([f["WheelBasedVehicleSpeed"] for f in ccvs1])
        found: list[Shift] = []
        start = from_gear = None
        if since.idle_frame is not None:
            etc1.insert(0, since.idle_frame)
        for before, after in itertools.pairwise(etc1):
            shifting_before = before["ShiftInProcess"] != NOT_SHIFTING
            shifting_after = after["ShiftInProcess"] != NOT_SHIFTING
            edge = 0.5 * (before.t_s + after.t_s)
            if shifting_after and not shifting_before:
                start, from_gear = edge, self._gear_of(before)
            elif shifting_before and not shifting_after and start is not None:
                found.append(self._shift(start, edge, from_gear, self._gear_of(after), speed_t, speed_kmh))
                start = None
        if start is not None:
            found.append(self._shift(start, math.nan, from_gear, NEUTRAL, speed_t, speed_kmh))
        return found

    @staticmethod
    def _shift(
        start: float, end: float, from_gear: Any, to_gear: int, speed_t: np.ndarray, speed_kmh: np.ndarray
    ) -> Shift:
        return Shift(start, end, int(from_gear), to_gear, speed_at(start, speed_t, speed_kmh))

    @staticmethod
    def at(shifts: list[Shift], start_s: float) -> Shift:
        """The shift whose command was at ``start_s`` (as ``next_shift`` returned it)."""
        return min(shifts, key=lambda s: abs(s.start_s - start_s))


def speed_at(t_s: float, speed_t: np.ndarray, speed_kmh: np.ndarray) -> float:
    """The speed at ``t_s`` carried on from the last two frames before it: the shift that starts
    there takes the torque away, and the speed dips in the period after (interpolating across it
    would read the line low)."""
    before = np.flatnonzero(speed_t <= t_s)
    if before.size < 2:
        return math.nan
    i, j = before[-2], before[-1]
    slope = (speed_kmh[j] - speed_kmh[i]) / (speed_t[j] - speed_t[i])
    return float(speed_kmh[j] + slope * (t_s - speed_t[j]))


class DynoRecorder:
    """A plant-loop step after the road load: what the dyno read, with the time CAN frames carry."""

    name = "dyno_record"

    def __init__(self, road: RoadLoadEmulation) -> None:
        self.road = road
        self.rows: list[tuple[float, float, float]] = []

    def step(self, t_s: float, dt_s: float) -> None:
        self.rows.append((time.monotonic(), self.road.measured_speed_rpm, self.road.measured_torque_nm))

    def window(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(times, torque) of the readings in [t0_s, t1_s]."""
        rows = np.array([r for r in self.rows if t0_s <= r[0] <= t1_s])
        if rows.size == 0:
            raise LookupError(f"no dyno readings between {t0_s:.3f} and {t1_s:.3f} s")
        return rows[:, 0], rows[:, 2]


@dataclass
class Road:
    """The bus on the road, presented by the dyno: ``start`` brings the shaft to the bus's speed (a
    speed step would trip the dyno's torque alarm) and hands the dyno to the plant loop."""

    bus: VehicleModel
    loop: PlantLoop
    recorder: DynoRecorder


def start_road(drive: DriveStrategy, dyno: Any, plant_loop: Any, speed_kmh: float) -> Road:
    bus = VehicleModel(speed_kmh=speed_kmh)
    drive.transition("turning", output_rpm=bus.shaft_speed_rpm)
    road = RoadLoadEmulation(bus, dyno)
    recorder = DynoRecorder(road)
    return Road(bus, plant_loop(road, recorder), recorder)
