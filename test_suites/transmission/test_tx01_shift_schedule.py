"""TX-01: the shift schedule, upshift 1→2 at 20/50/100 % throttle (and 2→3 at 100 %), downshift
hysteresis and no hunting (reference §2.2).

TX-01a drives the 18 t bus on the road-load model in one run: from 26 km/h at 20 % throttle to the
1→2 upshift; on 3 s (no shift may follow sooner), up a 12 % grade at the same throttle until the
2→1 downshift; on the flat at 50 % to the next upshift; the pedal eased to 30 % and then floored,
which kicks down to 1st; at full throttle through the 1→2 and the 2→3 upshifts (the catalogue
gives 1→2 only; 2→3 is judged against the product's schedule, 70 km/h at full throttle).
Starting at speed instead of from rest keeps the run short, and full torque at low speed would ask
more of the output shaft than the dyno's torque envelope (1200 N·m; 950 N·m through 1st is
1520 N·m).

TX-01b holds the output shaft at 53 km/h in 2nd and pumps the pedal between 35 % and 85 % every
second: there the 2→3 line of the lower throttle and the 3→2 line of the higher one lie on either
side of the speed, so a transmission without a dwell shifts at every pedal move. Neither pedal
position is a kick-down (from at most 30 % to at least 90 %, TX-05).
"""

from __future__ import annotations

import allure

from hil.models import VehicleParameters
from hil.scenario import scenario
from hil.timing import dwell

from .gearbox import SHIFT_OVER_S, start_road

pytestmark = [allure.epic("Transmission")]

UP_20, UP_50, UP_100 = (
    "tx.upshift_1_2.speed_20pct_kmh",
    "tx.upshift_1_2.speed_50pct_kmh",
    "tx.upshift_1_2.speed_100pct_kmh",
)
UP_23_100 = "tx.upshift_2_3.speed_100pct_kmh"
HYSTERESIS = "tx.downshift.hysteresis_kmh"
SHIFT_TIME = "tx.shift.time_s"
HUNTING = "tx.schedule.shifts_per_3s"

START_KMH = 26.0  # below the catalogue's lowest 1→2 upshift (30 km/h): 1st at zero throttle
LOW, MID, FULL = 0.20, 0.50, 1.00  # the catalogue's throttles (TX-01)
EASED = 0.30  # the pedal before a kick-down (TX-05: a step from 30 %)
NO_HUNTING_S = 3.0  # TX-01: at most one shift per 3 s, so the downshift line is met after any dwell
CLIMB_GRADE_PCT = 12.0  # slows the bus at 20 % throttle in 2nd by ≈ 0.9 m/s² [E]
EASED_S = 0.5  # the pedal held at 30 % after the upshift is over, before it is floored
# waits: the bus at 20 % throttle gains ≈ 1 km/h per second; a schedule 8 km/h late (the defect
# unit upshift_late) and the overspeed upshift above it must still be seen
UPSHIFT_TIMEOUT_S = 40.0
DOWNSHIFT_TIMEOUT_S = 15.0

CRUISE_KMH = 53.0  # TX-01b: between the 2→3 line at 35 % (50 km/h) and the 3→2 line at 85 % (57.5)
TO_SECOND = 0.60  # on the way up to it: 1→2 at 43 km/h, 2→3 not before 58 km/h
PUMP = (0.35, 0.85)
PUMP_HALF_PERIOD_S = 1.0
PUMP_PERIODS = 3


@scenario(
    "TX-01a",
    "Shift schedule: upshift 1→2 at 20/50/100 % throttle and 2→3 at 100 %, downshift hysteresis",
    feature="Shift schedule",
    severity="critical",
    measures=[UP_20, UP_50, UP_100, UP_23_100, HYSTERESIS, SHIFT_TIME],
)
def test_tx01a_upshift_speeds_and_hysteresis(drive, dyno, plant_loop, gearbox, measure):
    gearbox.ready(drive)
    road = start_road(drive, dyno, plant_loop, START_KMH)
    since = gearbox.mark()

    gearbox.throttle(LOW)
    up_low = gearbox.next_shift(since, timeout_s=UPSHIFT_TIMEOUT_S, what="1→2 upshift at 20 % throttle")
    dwell(NO_HUNTING_S)
    road.bus.grade_percent = CLIMB_GRADE_PCT
    down_low = gearbox.next_shift(since_last(gearbox), timeout_s=DOWNSHIFT_TIMEOUT_S, what="2→1 on the climb")

    road.bus.grade_percent = 0.0
    gearbox.throttle(MID)
    up_mid = gearbox.next_shift(since_last(gearbox), timeout_s=UPSHIFT_TIMEOUT_S, what="1→2 at 50 % throttle")
    gearbox.throttle(EASED)
    gearbox.wait_idle(timeout_s=SHIFT_OVER_S, what="the 50 % upshift over")
    dwell(EASED_S)
    floored = gearbox.mark()
    gearbox.throttle(FULL)
    gearbox.next_shift(floored, timeout_s=DOWNSHIFT_TIMEOUT_S, what="kick-down to 1st")
    up_full = gearbox.next_shift(
        since_last(gearbox), timeout_s=UPSHIFT_TIMEOUT_S, what="1→2 upshift at full throttle"
    )
    up_top = gearbox.next_shift(
        since_last(gearbox), timeout_s=UPSHIFT_TIMEOUT_S, what="2→3 upshift at full throttle"
    )
    gearbox.wait_idle(timeout_s=SHIFT_OVER_S, what="the last upshift over")

    shifts = gearbox.shifts(since)
    up_20, down_20 = gearbox.at(shifts, up_low), gearbox.at(shifts, down_low)
    for shift, name in (
        (up_20, UP_20),
        (gearbox.at(shifts, up_mid), UP_50),
        (gearbox.at(shifts, up_full), UP_100),
    ):
        assert (shift.from_gear, shift.to_gear) == (1, 2), (
            f"{name}: a {shift.from_gear}→{shift.to_gear} shift"
        )
        measure(name, shift.speed_kmh)
    top = gearbox.at(shifts, up_top)
    assert (top.from_gear, top.to_gear) == (2, 3), f"{UP_23_100}: a {top.from_gear}→{top.to_gear} shift"
    measure(UP_23_100, top.speed_kmh)
    assert (down_20.from_gear, down_20.to_gear) == (2, 1), (
        f"the climb: a {down_20.from_gear}→{down_20.to_gear}"
    )
    measure(HYSTERESIS, up_20.speed_kmh - down_20.speed_kmh)
    for shift in shifts:
        measure(SHIFT_TIME, shift.time_s)


@scenario(
    "TX-01b",
    "Shift schedule: no hunting under a pumping pedal",
    feature="Shift schedule",
    measures=[HUNTING],
)
def test_tx01b_no_hunting(drive, gearbox, measure):
    gearbox.ready(drive)
    gearbox.throttle(TO_SECOND)
    drive.transition("turning", output_rpm=VehicleParameters().shaft_speed_rpm(CRUISE_KMH / 3.6))
    since = gearbox.mark()
    for _ in range(PUMP_PERIODS):
        for throttle in PUMP:
            gearbox.throttle(throttle)
            dwell(PUMP_HALF_PERIOD_S)
    starts = [shift.start_s for shift in gearbox.shifts(since)]
    measure(HUNTING, max((sum(s <= t < s + NO_HUNTING_S for t in starts) for s in starts), default=0))


def since_last(gearbox):
    """A mark after the shift in process (the one just commanded) is over."""
    gearbox.wait_idle(timeout_s=SHIFT_OVER_S, what="the shift in process over")
    return gearbox.mark()
