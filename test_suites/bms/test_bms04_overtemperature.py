"""BMS-04 cell temperature: the thermistor emulator on the sense board's NTC line ramps the hottest
cell's temperature through the BMS's warning (50 °C) and trip (60 °C), and the coldest through its
charge inhibit (0 °C).

Each level comes from a 1 °C/s ramp through its limits; the trip's time from a step across it, once
the BMS has been reset below its 45 °C clear level, and the trip's level where its debounce began.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import allure

from hil.scenario import scenario
from hil.thermistor import NtcCurve
from hil.timing import dwell
from test_suites.bms.helpers import CLOSED, Samples, opened
from test_suites.disturbance import HeartbeatLosses, undisturbed

pytestmark = [allure.epic("BMS")]

RAMP_C_PER_S = 1.0  # 0.5 s of debounce is 0.5 °C [E]
RAMP_STEP_S = 0.1
BAND_C = 0.5  # the ramp starts this far before a level's limits and ends this far past them
# held at a ramp's start before it moves: a level already crossed there (a unit reading hot) shows
# within its debounce and reads as the start, outside the limits, rather than partway up the ramp
START_HOLD_S = 1.0
NEUTRAL_C = 25.0
REARM_C = 40.0  # below the 45 °C clear level of the trip [E]
REARM_FALL_C = 12.0  # most of the way down from the trip (about 60 °C) to REARM_C
STEP_TO_C = 66.0  # the trip's time: a step to here, past any trip inside its limits


class Thermistor:
    """The NTC line: a temperature asked for, the resistance written, read back and noted."""

    def __init__(self, tempsim, curve: NtcCurve) -> None:
        self.tempsim, self.curve = tempsim, curve
        self.samples = Samples()

    def set(self, temperature_c: float) -> float:
        self.tempsim.set_resistance(1, self.curve.resistance_ohm(temperature_c))
        reached = self.curve.temperature_c(self.tempsim.resistance(1))
        self.samples.add(time.monotonic(), reached)
        return reached

    def ramp(self, start_c: float, end_c: float, until: Callable[[], bool]) -> bool:
        """From ``start_c`` to ``end_c`` at the ramp rate; True as soon as ``until()`` holds."""
        steps = math.ceil(abs(end_c - start_c) / (RAMP_C_PER_S * RAMP_STEP_S))
        self.set(start_c)
        dwell(START_HOLD_S)
        for k in range(steps + 1):
            self.set(start_c + (end_c - start_c) * k / steps)
            if until():
                return True
            dwell(RAMP_STEP_S)
        return until()


@scenario(
    "BMS-04",
    "Cell over-temperature warning and trip; charge inhibited below 0 °C",
    feature="Cell protection",
    severity="critical",
    measures=[
        "bms.cold_charge.inhibit_temperature_c",
        "bms.overtemperature.warning_temperature_c",
        "bms.overtemperature.trip_temperature_c",
        "bms.overtemperature.trip_time_s",
    ],
)
def test_bms04_overtemperature(drive, tempsim, vcu, can_monitor, j1939, product, measure):
    ntc = Thermistor(tempsim, NtcCurve.of_product(product))
    drive.transition("drive_ready")

    def first(message: str, signal: str, since: int) -> Callable[[], object]:
        return lambda: can_monitor.first(message, lambda f: f[signal] == 1, since)

    cold = measure.spec("bms.cold_charge.inhibit_temperature_c")
    ntc.set(cold.high + BAND_C)
    mark = can_monitor.mark()
    ntc.ramp(cold.high + BAND_C, cold.low - BAND_C, first("BMS_Status", "ChargeInhibit", mark))
    inhibit = first("BMS_Status", "ChargeInhibit", mark)()
    measure("bms.cold_charge.inhibit_temperature_c", ntc.samples.at(inhibit.t_s) if inhibit else math.nan)

    warning_spec = measure.spec("bms.overtemperature.warning_temperature_c")
    ntc.set(NEUTRAL_C)
    dwell(RAMP_STEP_S)
    ntc.set(warning_spec.low - BAND_C)
    mark = can_monitor.mark()
    ntc.ramp(
        warning_spec.low - BAND_C, warning_spec.high + BAND_C, first("BMS_Status", "WarningActive", mark)
    )
    warning = first("BMS_Status", "WarningActive", mark)()
    measure("bms.overtemperature.warning_temperature_c", ntc.samples.at(warning.t_s) if warning else math.nan)

    trip_spec = measure.spec("bms.overtemperature.trip_temperature_c")

    def trip_readings() -> dict[str, float]:
        ntc.set(trip_spec.low - BAND_C)
        ramp_from = ntc.samples.t_s[-1]
        mark = can_monitor.mark()

        def tripped() -> object:
            return can_monitor.first("BMS_Status", opened, mark)

        if not ntc.ramp(trip_spec.low - BAND_C, trip_spec.high + BAND_C, tripped):
            return {"bms.overtemperature.trip_temperature_c": ntc.samples.last}
        trip = tripped()
        trip_time = _trip_time(ntc, vcu, can_monitor)
        # a trip debounced from the ramp's very start reads as the start, not as what came before it
        return {
            "bms.overtemperature.trip_temperature_c": ntc.samples.at(max(trip.t_s - trip_time, ramp_from)),
            "bms.overtemperature.trip_time_s": trip_time,
        }

    def closed_cool() -> None:
        ntc.set(NEUTRAL_C)
        can_monitor.wait(
            "BMS_CellExtremes",
            lambda f: f["MaxCellTemperature"] < REARM_C,
            since=can_monitor.mark(),
            timeout_s=5.0,
            what=f"the BMS reading the sense line at {NEUTRAL_C:g} °C below {REARM_C:g} °C",
        )
        drive.transition("powered")
        drive.transition("drive_ready")

    # contactors the BMS opened on its VCU heartbeat, the bench holding frames back, are no
    # over-temperature trip: such a ramp is taken again
    for name, value in undisturbed(HeartbeatLosses(j1939, product), trip_readings, again=closed_cool).items():
        measure(name, value)


def _trip_time(ntc: Thermistor, vcu, can_monitor) -> float:
    """After the ramp's trip: reset below the clear level, closed again, then a step across the level;
    the time from the step to the contactors opening."""
    hot = can_monitor.latest("BMS_CellExtremes")
    assert hot is not None, "no BMS_CellExtremes frame: the BMS's temperature reading is not on the bus"
    ntc.set(REARM_C)
    mark = can_monitor.mark()
    # a reset the BMS takes before it has read the cooler sense line finds the trip's condition still
    # there and is lost: wait until its reading has come down by most of the step (an offset sensor
    # reads every temperature off by the same amount, so the fall is what tells)
    can_monitor.wait(
        "BMS_CellExtremes",
        lambda f: f["MaxCellTemperature"] <= hot["MaxCellTemperature"] - REARM_FALL_C,
        since=mark,
        timeout_s=3.0,
        what=f"the BMS reading the sense line {REARM_FALL_C:g} °C cooler",
    )
    mark = can_monitor.mark()
    vcu.fault_reset()
    can_monitor.wait(
        "BMS_Status", lambda f: f["ContactorState"] == CLOSED, since=mark, timeout_s=3.0, what="closed again"
    )
    mark = can_monitor.mark()
    ntc.set(STEP_TO_C)
    stepped = ntc.samples.t_s[-1]
    reopened = can_monitor.wait("BMS_Status", opened, since=mark, timeout_s=5.0, what="the step's trip")
    return reopened.t_s - stepped
