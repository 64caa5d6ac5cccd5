"""The plant loop on the simulated bench, through the same sockets and drivers as a lab bench.

The supply and the cell simulator act as the pack model, the dyno presents the coasting bus; the
e-load on the pack side draws current halfway through, and the pack model (fed the current the
supply measures) sags, which the supply's voltage has to follow.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from hil.bench import Bench
from hil.models import LoopStats, PackEmulation, PackModel, PlantLoop, RoadLoadEmulation, VehicleModel

pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
LOAD_A = 10.0  # 5.5 kW at 550 V: inside the e-load's 6 kW (63206A-1200-240), so it sinks current, not power
START_KMH = 20.0  # in 1st gear and below its upshift: no gear change (and its regen) while it coasts


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:g} s")
        time.sleep(0.05)


@pytest.fixture
def bench():
    with Bench.from_file(ROOT / "benches" / "sim.yaml") as the_bench:
        yield the_bench


@pytest.mark.slow
def test_pack_and_road_load_emulation_run_at_100_hz_and_the_supply_follows_the_pack(bench):
    cells, supply, dyno, eload = bench.cellsim, bench.supply, bench.dyno, bench.eload
    pack = PackModel(seed=1, soc=0.6)
    cells.set_current_limit(1.0)
    cells.set_cell_voltages(pack.cell_voltages_v[: cells.channels].tolist())
    cells.output_on()
    supply.set_current_limit(100)
    supply.set_sink_current_limit(200)
    supply.set_slew(1000)
    supply.set_voltage(pack.terminal_voltage_v)
    supply.output_on()
    _wait_for(
        lambda: abs(supply.measure_voltage() - pack.terminal_voltage_v) < 0.1, 5.0, "supply at the pack"
    )
    vehicle = VehicleModel(speed_kmh=START_KMH)
    for rpm in np.linspace(0.0, vehicle.shaft_speed_rpm, 21)[1:]:  # a step would trip its torque alarm
        dyno.set_speed(rpm)
        time.sleep(0.1)
    _wait_for(
        lambda: abs(dyno.read().speed_rpm - vehicle.shaft_speed_rpm) < 5.0, 5.0, "dyno at the bus's speed"
    )
    eload.set_mode("CCH")
    eload.set_current(LOAD_A)

    pack_step = PackEmulation(pack, supply, cells)
    road_step = RoadLoadEmulation(vehicle, dyno)
    probes: list[tuple[float, ...]] = []

    def probe(t_s: float, dt_s: float) -> None:
        # in the loop's thread: the loop owns supply and dyno while it runs
        if len(probes) < round(t_s * 10):
            commanded = pack.terminal_voltage_v
            probes.append(
                (
                    t_s,
                    supply.measure_voltage(),
                    commanded,
                    pack_step.measured_current_a,
                    road_step.measured_speed_rpm,
                    vehicle.shaft_speed_rpm,
                )
            )

    loop = PlantLoop([pack_step, road_step])
    loop.add("probe", probe)
    with loop:
        time.sleep(4.0)
        loop.check()
        rested_v, rested_a = pack.terminal_voltage_v, pack.current_a
        eload.load_on()  # the e-load is not the loop's: the test may drive it
        time.sleep(6.0)
    eload.load_off()
    assert not loop.running
    stats = loop.stats()
    print(f"\nplant loop on the simulated bench: {stats.line()}")

    t, measured_v, commanded_v, current_a, dyno_rpm, shaft_rpm = np.array(probes).T
    # the supply is where the pack model put it, at rest and under load
    assert np.max(np.abs(measured_v - commanded_v)) < 0.1
    assert pack.current_a - rested_a == pytest.approx(LOAD_A, abs=0.5)  # the drive idles on the rest
    sag = 168 * pack.r0_ohm.mean() * LOAD_A
    assert rested_v - pack.terminal_voltage_v > sag
    assert rested_v - measured_v[-1] > sag
    assert pack.reference_ah == pytest.approx(np.mean(current_a) * t[-1] / 3600, rel=0.1)
    # the dyno turns at the coasting bus's speed
    assert vehicle.speed_kmh < START_KMH - 0.5
    assert np.max(np.abs(dyno_rpm - shaft_rpm)) < 20.0
    # timing last: the physics above holds whatever the machine's load, the schedule needs a core.
    # A window the machine took from the loop (3 overruns of 998 steps in one CI run, none alone) is
    # measured once more, 10 s of the same loop: a loop too slow for 100 Hz misses both
    if not _keeps_time(stats):
        again = PlantLoop([pack_step, road_step])
        with again:
            time.sleep(10.0)
        retaken = again.stats()
        print(f"measured again: {retaken.line()}")
        assert _keeps_time(retaken), f"first {stats.line()}; again {retaken.line()}"


def _keeps_time(stats: LoopStats) -> bool:
    # The loop holds its rate: a step slower than the period overruns on every slot, one slower now
    # and then shows in the p99. The 2 ms p99 target is a figure of the nightly summary, not a CI
    # verdict: on a shared 2-core machine the simulator's replies alone stall up to tens of ms (two
    # CI runs: p99 1.0 ms with one 23 ms stall a window; p99 8.1 and 4.9 ms, 6 and 3 overruns of
    # 1000, the machine otherwise idle)
    return (
        stats.count >= 980 and stats.overruns <= stats.count // 100 and stats.lateness_p99_s < stats.period_s
    )
