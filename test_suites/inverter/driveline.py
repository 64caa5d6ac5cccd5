"""The driveline between the motor and the dyno, as the inverter scenarios see it.

The dyno sits on the transmission's output shaft: the motor turns at the output speed times the
ratio of the gear the TCU holds (ETC2 reports it), and the dyno's torque reading is the motor's
torque through that gear, its efficiency, the output bearings and the dyno's own windage. The
scenarios choose operating points knowing the TCU's schedule (it shifts by vehicle speed and by the
throttle, the torque request over the peak torque), wait until the gear they want is engaged, and
turn the dyno's figures into the motor's with the product's gear ratios and efficiencies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hil.dut.gear import NOT_SHIFTING, engaged_gear
from hil.dut.monitor import CanMonitor
from hil.dut.vcu import Vcu
from hil.product import Product
from hil.strategy import DriveStrategy
from hil.timing import dwell, wait_until
from test_suites.disturbance import READING_ATTEMPTS, CommandTimeouts, undisturbed

T = TypeVar("T")

FIRST_GEAR = 1
DIRECT_DRIVE = 3
# the output-shaft speed to bring the bench up at for the direct drive: 58 km/h, above the TCU's
# 2->3 upshift at light throttle (45 km/h [E]) with room for a schedule some km/h late; at light
# throttle 3rd then holds down to ~37 km/h (2230 rpm), and scenarios stay at 2900 rpm (48 km/h) and
# above, where a late schedule holds it too
DIRECT_DRIVE_OUTPUT_RPM = 3500.0
# Up to the direct drive the output shaft climbs slowly from 2000 rpm (33 km/h), where the shifts
# lie: the motor, synchronising to the next gear in neutral, must catch a target that moves with the
# output shaft, and on the bench's 54 kW it may only brake or drive so hard; a shaft climbing at the
# dyno's 1500 rpm/s can leave it behind (the TCU then tries the other gear, and the drive, asked to
# accelerate the motor at speed, pulls the link down). The approach runs at about 400 rpm/s.
APPROACH_FROM_RPM = 2000.0
APPROACH_STEP_RPM = 100.0
APPROACH_DWELL_S = 0.15
GEAR_TIMEOUT_S = 8.0  # two shifts 3 s apart (the TCU's least shift interval [E]) and their execution
TSC1_STEP_NM = 10.0  # TSC1 requested torque: 1 % of the 1000 N·m reference_torque (specs/product.yaml)
FLUX_TIME_CONSTANTS = 5  # the rotor flux within 1 % of its final value, forced or not


@dataclass(frozen=True)
class DynoMean:
    """Readings of the dyno averaged over a dwell: output-shaft speed and absorbed torque."""

    speed_rpm: float
    torque_nm: float


class Driveline:
    def __init__(self, product: Product, monitor: CanMonitor) -> None:
        self.product, self.monitor = product, monitor

    def steady(
        self, take: Callable[[], T], attempts: int = READING_ATTEMPTS, *, timeout_expected: bool = False
    ) -> T:
        """``take()``, again while the bench disturbs it (``undisturbed``)."""
        return undisturbed(CommandTimeouts(self.monitor), take, attempts, timeout_expected=timeout_expected)

    def start_turning(self, drive: DriveStrategy, output_rpm: float) -> None:
        """The bench turning at ``output_rpm`` from wherever it was, the transmission engaged first.

        The bench's safe state stops the shaft with the drive off: a shift under way then waits in
        neutral, the motor coasting, until the drive comes back to synchronise it. The shaft turns
        only once that is done: a synchronisation chasing a moving output could ask the drive for
        more power than the bench's supply has."""
        drive.transition("drive_ready")
        self.wait_engaged()
        drive.transition("turning", output_rpm=output_rpm)

    def wait_engaged(self) -> None:
        """Until the TCU reports a gear engaged and no shift in process, whichever gear."""
        wait_until(
            self.gear,
            lambda seen: seen[0] != 0 and not seen[1],
            timeout_s=GEAR_TIMEOUT_S,
            what="transmission engaged, no shift in process (ETC2/ETC1)",
        )

    def engage_direct_drive(self, drive: DriveStrategy) -> None:
        """Bring the bench to the direct drive at ``DIRECT_DRIVE_OUTPUT_RPM`` (the strategy's
        transitions, taken in steps through the shift points)."""
        self.start_turning(drive, APPROACH_FROM_RPM)
        target = APPROACH_FROM_RPM
        while target < DIRECT_DRIVE_OUTPUT_RPM:
            target = min(target + APPROACH_STEP_RPM, DIRECT_DRIVE_OUTPUT_RPM)
            drive.transition("turning", output_rpm=target)
            dwell(APPROACH_DWELL_S)
        self.wait_in_gear(DIRECT_DRIVE)

    def settle_flux(self) -> None:
        """Dwell until the rotor flux has settled since the drive began to modulate (five rotor
        time constants): the phase currents then carry torque only in their q part."""
        dwell(FLUX_TIME_CONSTANTS * self.product.value("rotor_time_constant", "s"))

    def ratio(self, gear: int) -> float:
        return self.product.value(f"gear_ratio_{gear}", "1")

    def efficiency(self, gear: int) -> float:
        """Torque out over ratio × torque in while the motor drives: the direct drive passes no mesh."""
        name = "direct_drive_efficiency" if self.ratio(gear) == 1.0 else "gear_mesh_efficiency"
        return self.product.value(name, "%") / 100.0

    def gear(self) -> tuple[int, bool]:
        """(engaged gear, 0 while a shift is in process; whether one is)."""
        gear = engaged_gear(self.monitor, self.product)
        return (0, True) if gear is None else (gear, False)

    def wait_in_gear(self, gear: int, timeout_s: float = GEAR_TIMEOUT_S) -> None:
        """Until the TCU reports ``gear`` engaged with no shift in process."""
        wait_until(
            self.gear,
            lambda seen: seen == (gear, False),
            timeout_s=timeout_s,
            what=f"transmission in gear {gear}, no shift in process (ETC2/ETC1)",
        )

    def shifted_since(self, mark: int) -> bool:
        """Whether a shift was in process in any ETC1 frame since the monitor's ``mark``."""
        return (
            self.monitor.first("ETC1", lambda f: f["ShiftInProcess"] != NOT_SHIFTING, since=mark) is not None
        )

    def motor_torque(self, dyno_torque_nm: float, no_load_nm: float, gear: int) -> float:
        """The motor's torque from the dyno's, less the no-load torque at the same speed.

        The no-load reading (zero torque requested) holds what lies between the motor and the
        dyno's measuring point at that speed (output bearings, the dyno's windage) and the motor's
        own friction and windage; taking it off is the torque-measurement correction of GB/T
        18488.2-2015 App. A [R]. What remains went through the gear at its ratio and efficiency.
        """
        return (dyno_torque_nm - no_load_nm) / (self.ratio(gear) * self.efficiency(gear))


def ramp_torque(vcu: Vcu, from_nm: float, to_nm: float, seconds: float) -> None:
    """Move the TSC1 torque request along a ramp in the message's 10 N·m steps (1 % of the 1000 N·m
    reference), so the dyno's speed loop follows it without the overshoot a step would cost it."""
    steps = max(1, round(abs(to_nm - from_nm) / TSC1_STEP_NM))
    for k in range(1, steps + 1):
        vcu.request_torque(from_nm + (to_nm - from_nm) * k / steps)
        dwell(seconds / steps)


def dyno_mean(dyno: Any, seconds: float) -> DynoMean:
    """The dyno's speed and torque averaged over ``seconds`` of readings."""
    speeds: list[float] = []
    torques: list[float] = []
    start = time.monotonic()

    def read() -> float:
        reading = dyno.read()
        speeds.append(reading.speed_rpm)
        torques.append(reading.torque_nm)
        return time.monotonic() - start

    wait_until(
        read, lambda elapsed: elapsed >= seconds, timeout_s=seconds + 2.0, what="dyno readings", poll_s=0.01
    )
    return DynoMean(sum(speeds) / len(speeds), sum(torques) / len(torques))
