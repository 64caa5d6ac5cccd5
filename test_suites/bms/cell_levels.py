"""BMS-01 and BMS-02 are one scenario run in two directions: a weak cell in the pack model ramped
through the BMS's warning, limit-zero and trip levels (slowly through each level's limits, fast
between them), then the trip's time from a second, fast crossing once the cell is back inside the
trip's hysteresis. A plan holds what differs: the direction, the pack, the weak cell, the names.

An attempt during which the BMS lost its VCU heartbeat (its DTC in DM1) is taken again, from off
with a fresh pack: contactors it opened on that are no cell trip (a 0.44 s stall of the simulated
bench once read BMS-02's trip level at 2.813 V so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hil.models import PackModel
from test_suites.bms.helpers import (
    BandedRate,
    CellRamp,
    WeakCell,
    level_at,
    ramp_through_levels,
    start_pack,
    trip_level,
    trip_time_from_a_fast_crossing,
)
from test_suites.disturbance import HeartbeatLosses, undisturbed

SLOW_V_PER_S = 0.005  # reference BMS-01/02: 5 mV/s through each level (0.5 s debounce: 2.5 mV late)
TRIP_V_PER_S = 0.003  # slower through the trip: its level is judged apart from its time
FAST_V_PER_S = 0.04  # between the levels
# the slow band starts this far before each level's limits and ends this far past them
BAND_BEFORE_V, BAND_AFTER_V = 0.005, 0.008
GIVE_UP_PAST_V = 0.025  # past the trip limit by this much without a trip: it does not trip
BACK_V_PER_S = 0.05  # back inside the trip's hysteresis for the second crossing
REARM_V = 0.04  # at rest inside the trip: 20 mV of hysteresis and 20 mV for the drive's draw
ACROSS_V_PER_S = 0.1  # the second crossing, where 1 mV of measurement noise is 10 ms [E]
LEVELS_TIMEOUT_S = 60.0
TRIP_TIME_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CellLevelPlan:
    """``rising``: the cell charged up through the levels (the emulated charger, the e-load back),
    else discharged down (the e-load, the charger back). ``prefix`` names the measurements,
    ``limit_zero`` the limit-zero one; ``trip_figure`` is the product's trip level the second
    crossing crosses."""

    scenario: str
    prefix: str
    limit_zero: str
    limit_signal: str
    trip_figure: str
    rising: bool
    pack_seed: int
    pack_soc: float
    weak: WeakCell
    charger_max_a: float
    load_max_a: float


def cell_levels(
    plan: CellLevelPlan,
    *,
    drive: Any,
    plant_loop: Any,
    supply: Any,
    cellsim: Any,
    eload: Any,
    vcu: Any,
    can_monitor: Any,
    j1939: Any,
    product: Any,
    measure: Any,
) -> None:
    names = ("warning_voltage_v", plan.limit_zero, "trip_voltage_v")
    warning, limit_zero, trip = (f"{plan.prefix}.{name}" for name in names)
    specs = [measure.spec(name) for name in (warning, limit_zero, trip)]
    sign = 1.0 if plan.rising else -1.0
    below, above = (BAND_BEFORE_V, BAND_AFTER_V) if plan.rising else (BAND_AFTER_V, BAND_BEFORE_V)
    bands = [
        (s.low - below, s.high + above, rate)
        for s, rate in zip(specs, (SLOW_V_PER_S, SLOW_V_PER_S, TRIP_V_PER_S), strict=True)
    ]
    index = plan.weak.channel - 1
    toward_max_a, back_max_a = (
        (plan.charger_max_a, plan.load_max_a) if plan.rising else (plan.load_max_a, plan.charger_max_a)
    )
    limit = specs[2].high if plan.rising else specs[2].low

    def readings() -> dict[str, float]:
        pack = PackModel(
            seed=plan.pack_seed, soc=plan.pack_soc, deviations=[plan.weak.deviation(plan.pack_soc, 200.0)]
        )
        toward = CellRamp(pack, index, BandedRate(bands, FAST_V_PER_S, rising=plan.rising), toward_max_a)
        back = CellRamp(pack, index, lambda v: BACK_V_PER_S, back_max_a)
        charge, discharge = (toward, back) if plan.rising else (back, toward)
        eload.set_mode("CCH")
        on_bench = start_pack(
            drive,
            plant_loop,
            supply,
            cellsim,
            pack,
            plan.weak,
            charge=charge,
            discharge=discharge,
            eload=eload,
        )
        drive.transition("drive_ready")
        mark = can_monitor.mark()
        toward.running = True  # the ramp starts once the contactors are closed
        events = ramp_through_levels(
            can_monitor,
            on_bench.cell,
            toward,
            rising=plan.rising,
            limit_signal=plan.limit_signal,
            give_up_v=limit + sign * GIVE_UP_PAST_V,
            since=mark,
            timeout_s=LEVELS_TIMEOUT_S,
            what=f"{plan.scenario}: the weak cell ramped to the BMS's trip",
        )
        taken = {
            warning: level_at(on_bench.cell, events.warning),
            limit_zero: level_at(on_bench.cell, events.limit_zero),
        }
        if events.trip is None:
            return taken | {trip: events.furthest_v}
        level = product.value(plan.trip_figure, "V")
        toward.rate = lambda v: ACROSS_V_PER_S
        trip_time = trip_time_from_a_fast_crossing(
            can_monitor,
            vcu,
            on_bench.cell,
            back=back,
            across=toward,
            rearm_v=level - sign * REARM_V,
            level_v=level,
            rising=plan.rising,
            timeout_s=TRIP_TIME_TIMEOUT_S,
        )
        return taken | {
            trip: trip_level(on_bench.cell, events.trip, trip_time),
            f"{plan.prefix}.trip_time_s": trip_time,
        }

    def from_off() -> None:
        drive.transition("off")  # the bench's safe state stops the attempt's plant loop with it

    for name, value in undisturbed(HeartbeatLosses(j1939, product), readings, again=from_off).items():
        measure(name, value)
