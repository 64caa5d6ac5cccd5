"""A latch one test leaves on an instrument's own protection (the dyno's alarm, which only
programming re-arms) does not stop every test after it: the bench's safe state has the protections
programmed again before the next energising call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hil.bench import Bench

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:g} s")
        time.sleep(0.02)


def test_a_dyno_alarm_latched_in_one_test_is_rearmed_for_the_next():
    with Bench.from_file(ROOT / "benches" / "sim-inprocess.yaml") as bench:
        dyno = bench.dyno
        dyno.set_speed(1500.0)
        _wait_for(lambda: abs(dyno.read().speed_rpm - 1500.0) < 10.0, 5.0, "the shaft at 1500 rpm")
        assert not dyno.read().alarm  # the speed loop keeps its torque inside the alarm level
        bench.service.faults.arm("dyno", "alarm")  # as a shaft driven past a limit would latch it
        _wait_for(lambda: dyno.read().alarm, 2.0, "the alarm")
        bench.safe_state()
        assert dyno.read().alarm  # the safe state itself leaves the latch as the dyno shows it
        dyno.set_speed(100.0)  # the next test's first speed command: alarms programmed and re-armed
        assert not dyno.read().alarm
