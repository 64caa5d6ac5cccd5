"""The plant loop: absolute deadlines, lateness statistics, overrun skip, failure handling."""

from __future__ import annotations

import gc
import sys
import threading
import time

import numpy as np
import pytest

from hil.models.loop import PlantLoop, PlantLoopError, Schedule

PERIOD = 0.01


class FakeTime:
    """Loop time that passes only when the loop sleeps or a step says it took time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_schedule_keeps_absolute_deadlines_and_skips_ahead_after_an_overrun():
    schedule = Schedule(0.0, PERIOD)
    assert schedule.begin(0.0) == (0.0, False) and schedule.deadline_s == pytest.approx(0.01)
    lateness, overrun = schedule.begin(0.015)  # half a period late: no overrun, no drift
    assert lateness == pytest.approx(0.005) and not overrun
    assert schedule.deadline_s == pytest.approx(0.02)
    lateness, overrun = schedule.begin(0.055)  # 3.5 periods late
    assert lateness == pytest.approx(0.035) and overrun
    assert schedule.deadline_s == pytest.approx(0.06), "the next slot after now, not 0.03"


def test_an_overrun_is_counted_and_the_schedule_skips_ahead_without_a_burst():
    fake = FakeTime()
    starts: list[float] = []
    loop = PlantLoop(clock=fake.clock, sleep=fake.sleep)

    ten = threading.Event()

    def step(t_s: float, dt_s: float) -> None:
        starts.append(t_s)
        fake.now += 3.5 * PERIOD if len(starts) == 5 else 0.1 * PERIOD
        if len(starts) == 10:
            loop.stop()
            ten.set()

    loop.add("slow_once", step)
    loop.start()
    assert ten.wait(10.0), f"{len(starts)} steps in 10 s"
    loop.stop()
    loop.check()
    # steps at 0..4 periods; the 5th ends at 7.5 periods, runs at once (2.5 periods late) and the
    # schedule resumes at 8, 9 ... periods instead of running the missed slots back to back
    expected = [0, 1, 2, 3, 4, 7.5, 8, 9, 10, 11]
    assert starts == pytest.approx([k * PERIOD for k in expected])
    stats = loop.stats()
    assert stats.count == 10 and stats.overruns == 1
    assert stats.lateness_max_s == pytest.approx(2.5 * PERIOD)
    assert stats.lateness_p50_s == pytest.approx(0.0)
    assert stats.duration_max_s == pytest.approx(3.5 * PERIOD)


def test_steps_get_loop_time_and_the_time_that_really_passed():
    fake = FakeTime()
    seen: list[tuple[float, float]] = []
    loop = PlantLoop(clock=fake.clock, sleep=fake.sleep)

    def step(t_s: float, dt_s: float) -> None:
        seen.append((t_s, dt_s))
        fake.now += 2.2 * PERIOD if len(seen) == 2 else 0.0
        if len(seen) == 4:
            loop.stop()

    loop.add("s", step)
    with loop:
        while loop.running:
            time.sleep(0.001)
    assert [t for t, _ in seen] == pytest.approx([0.0, 0.01, 0.032, 0.04])
    assert [dt for _, dt in seen] == pytest.approx([0.01, 0.01, 0.022, 0.008])


def test_absolute_deadlines_do_not_drift_with_the_step_time(no_thread_left_behind):
    """A 3 ms step at 100 Hz: sleeping a period after each step would start them 13 ms apart, off
    the 10 ms grid; on absolute deadlines every start sits on the grid, late by its lateness only."""
    starts: list[float] = []

    def busy(t_s: float, dt_s: float) -> None:
        starts.append(t_s)
        end = time.perf_counter() + 0.003
        while time.perf_counter() < end:
            pass

    loop = PlantLoop()
    loop.add("busy", busy)
    with loop:
        time.sleep(1.0)
    t = np.array(starts)
    off_grid = t - np.round(t / PERIOD) * PERIOD
    assert np.median(np.abs(off_grid)) < 0.001
    assert len(starts) >= 80
    stats = loop.stats()
    assert stats.count == len(starts)
    assert stats.lateness_p50_s <= stats.lateness_p99_s <= stats.lateness_max_s
    assert stats.duration_p50_s >= 0.003
    assert "steps at 100 Hz" in stats.line()


def test_a_failing_step_stops_the_loop_calls_on_failure_once_and_check_raises(no_thread_left_behind):
    failures: list[PlantLoopError] = []
    ran_after: list[float] = []
    called = threading.Event()

    def on_failure(error: PlantLoopError) -> None:
        failures.append(error)
        called.set()

    def broken(t_s: float, dt_s: float) -> None:
        if t_s > 0.05:
            raise ZeroDivisionError("cell 7 has no capacity")

    loop = PlantLoop(on_failure=on_failure)
    loop.add("pack", broken)
    loop.add("after", lambda t, dt: ran_after.append(t))
    loop.start()
    assert called.wait(2.0)
    loop.stop()
    assert not loop.running
    assert len(failures) == 1
    assert failures[0].step == "pack" and isinstance(failures[0].error, ZeroDivisionError)
    assert max(ran_after) <= 0.05 + 1e-9, "no step runs after the failure"
    for _ in range(2):  # the caller notices every time it checks
        with pytest.raises(PlantLoopError, match="step 'pack' raised ZeroDivisionError: cell 7") as caught:
            loop.check()
        assert isinstance(caught.value.__cause__, ZeroDivisionError)
    assert len(failures) == 1


def test_the_safe_state_waits_it_runs_are_not_cut_short_by_the_failure_it_handles(no_thread_left_behind):
    """on_failure's waits run the watchdogs, the loop's own check among them: in the handling thread
    check() lets them wait (it had waited for on_failure to end, that is for itself, 120 s), while
    everywhere else it still raises."""
    returned = threading.Event()

    def on_failure(error: PlantLoopError) -> None:
        loop.check()
        returned.set()

    loop = PlantLoop(on_failure=on_failure)
    loop.add("pack", lambda t, dt: 1 / 0)
    loop.start()
    assert returned.wait(5.0), "on_failure's check() did not return"
    loop.stop()
    with pytest.raises(PlantLoopError, match="'pack' raised ZeroDivisionError"):
        loop.check()


def test_leaving_the_block_raises_what_stopped_the_loop(no_thread_left_behind):
    def broken(t_s: float, dt_s: float) -> None:
        raise RuntimeError("dyno alarm")

    loop = PlantLoop()
    loop.add("road_load", broken)
    with pytest.raises(PlantLoopError, match="'road_load' raised RuntimeError: dyno alarm"), loop:
        while loop.running:
            time.sleep(0.001)


def test_on_failure_raising_is_logged_not_lost(caplog, no_thread_left_behind):
    def on_failure(error: PlantLoopError) -> None:
        raise OSError("safe state failed")

    loop = PlantLoop(on_failure=on_failure)
    loop.add("s", lambda t, dt: 1 / 0)
    loop.start()  # its first step fails and ends it
    while loop.running:
        time.sleep(0.001)
    with pytest.raises(PlantLoopError):
        loop.check()
    assert "on_failure raised" in caplog.text


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="rate"):
        PlantLoop(rate_hz=0.0)
    loop = PlantLoop()
    with pytest.raises(ValueError, match="no steps"):
        loop.start()
    loop.add("a", lambda t, dt: None)
    with pytest.raises(ValueError, match="already has a step 'a'"):
        loop.add("a", lambda t, dt: None)


def test_while_a_loop_runs_the_interpreter_switches_often_and_collects_only_in_the_slack():
    interval, collecting = sys.getswitchinterval(), gc.isenabled()
    fake = FakeTime()
    seen: list[tuple[float, bool]] = []
    passes: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            passes.append(info["generation"])

    loop = PlantLoop(clock=fake.clock, sleep=fake.sleep)

    twenty = threading.Event()

    def step(t_s: float, dt_s: float) -> None:
        seen.append((sys.getswitchinterval(), gc.isenabled()))
        fake.now += 0.1 * PERIOD
        if len(seen) == 20:
            loop.stop()
            twenty.set()

    loop.add("s", step)
    gc.callbacks.append(count)
    try:
        loop.start()
        # the loop stops itself after 20 steps: stopped from here at once, it ran as many as the
        # machine let it first
        assert twenty.wait(10.0), f"{len(seen)} steps in 10 s"
        loop.stop()
    finally:
        gc.callbacks.remove(count)
    assert len(seen) == 20 and set(seen) == {(0.0005, False)}
    assert passes.count(0) == 18 and passes.count(1) == 2 and 2 not in passes  # one pass a step
    assert (sys.getswitchinterval(), gc.isenabled()) == (interval, collecting)


def test_interpreter_settings_come_back_when_the_last_of_two_loops_stops(no_thread_left_behind):
    interval = sys.getswitchinterval()
    first, second = PlantLoop(), PlantLoop()
    first.add("a", lambda t, dt: None)
    second.add("b", lambda t, dt: None)
    with first:
        with second:
            time.sleep(0.05)
        assert sys.getswitchinterval() == 0.0005 and not gc.isenabled()
    assert sys.getswitchinterval() == interval and gc.isenabled()
    plain = PlantLoop(realtime=False)
    plain.add("c", lambda t, dt: time.sleep(0))
    seen = []
    plain.add("d", lambda t, dt: seen.append(gc.isenabled()))
    with plain:
        time.sleep(0.05)
    assert seen and all(seen)
