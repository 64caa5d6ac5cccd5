"""The one waiting helper: it returns what it waited for, names what it missed, counts the physics,
and runs the scenario's watchdogs at every poll."""

from __future__ import annotations

import math
import time

import pytest

from hil import timing
from hil.timing import WaitTimeout, dwell, wait_until


@pytest.fixture(autouse=True)
def fresh_ledger():
    yield timing.begin()


def test_returns_the_value_that_met_the_condition(fresh_ledger):
    values = iter([1, 2, 3, 4])
    assert wait_until(lambda: next(values), lambda v: v >= 3, timeout_s=1.0, what="three", poll_s=0.001) == 3
    assert fresh_ledger.physical_s > 0


def test_timeout_names_what_and_the_last_value():
    start = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(lambda: 41.5, lambda v: v > 50, timeout_s=0.1, what="link above 50 V", poll_s=0.01)
    assert 0.1 <= time.monotonic() - start < 1.0
    assert caught.value.last == 41.5
    assert str(caught.value) == "link above 50 V: not reached within 0.1 s (last value: 41.5)"


def test_polls_with_a_pause_not_flat_out():
    calls = []
    with pytest.raises(WaitTimeout):
        wait_until(lambda: calls.append(1), lambda _: False, timeout_s=0.2, what="never", poll_s=0.02)
    assert 5 <= len(calls) <= 15


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan])
def test_refuses_a_timeout_that_is_not_a_positive_finite_number(bad):
    with pytest.raises(ValueError, match="timeout_s"):
        wait_until(lambda: 1, timeout_s=bad, what="x")


@pytest.mark.parametrize("bad", [-0.1, math.inf, math.nan])
def test_dwell_refuses_nonsense(bad):
    with pytest.raises(ValueError, match="dwell"):
        dwell(bad)


def test_dwell_counts_as_physics(fresh_ledger):
    dwell(0.12)
    assert 0.12 <= fresh_ledger.physical_s < 0.5


class LoopDied(Exception):
    pass


def test_a_failed_watchdog_stops_a_long_dwell_promptly(fresh_ledger):
    died_at = time.monotonic() + 0.1

    def watchdog():
        if time.monotonic() > died_at:
            raise LoopDied("plant loop stopped")

    remove = fresh_ledger.watch(watchdog)
    start = time.monotonic()
    with pytest.raises(LoopDied):
        dwell(30.0)
    assert time.monotonic() - start < 1.0
    remove()
    dwell(0.06)  # removed: no longer runs


def test_a_failed_watchdog_stops_a_wait(fresh_ledger):
    def watchdog():
        raise LoopDied("plant loop stopped")

    fresh_ledger.watch(watchdog)
    with pytest.raises(LoopDied):
        wait_until(lambda: 0, lambda v: v > 1, timeout_s=10.0, what="never")
