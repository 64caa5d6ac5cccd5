"""Channels checked side by side: they do run side by side, and give what they give in turn."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from hil.waveform import (
    Capture,
    find_crossing,
    in_envelope,
    is_constant,
    kernels,
    parallel,
    ripple,
    rms,
    step_info,
)
from hil.waveform.parallel import map_channels


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch):
    """Set the checker's thread count for one test; small captures are shared out too."""
    monkeypatch.setattr(parallel, "MIN_PARALLEL_SAMPLES", 0)
    before = parallel.threads()
    yield parallel.set_threads
    parallel.set_threads(before)


@pytest.fixture
def compiled() -> None:
    if kernels.compiled is None:
        pytest.skip("the package was built without the compiled kernels")


def test_channels_run_on_two_threads_at_once(threads, compiled):
    threads(2)
    meeting = threading.Barrier(2, timeout=10)  # broken unless both channels run at the same time

    def meet(row: int) -> int:
        meeting.wait()
        return threading.get_ident()

    assert len(set(map_channels(meet, [0, 1], 1))) == 2


def test_results_come_back_in_channel_order_whatever_finishes_first(threads, compiled):
    threads(2)
    second_done = threading.Event()

    def work(row: int) -> int:
        if row == 0:
            assert second_done.wait(10)
        else:
            second_done.set()
        return row * 10

    assert map_channels(work, [0, 1], 1) == [0, 10]


def test_a_failing_channel_raises_in_the_caller(threads, compiled):
    threads(2)

    def work(row: int) -> int:
        if row == 1:
            raise ValueError("channel 1 broke")
        return row

    with pytest.raises(ValueError, match="channel 1 broke"):
        map_channels(work, [0, 1, 2], 1)


@pytest.mark.parametrize(
    "case", ["one thread", "one channel", "small capture", "numpy paths"], ids=lambda c: c.replace(" ", "-")
)
def test_channels_run_in_turn_in_the_caller(case, threads, compiled, monkeypatch):
    threads(1 if case == "one thread" else 2)
    rows = [0] if case == "one channel" else [0, 1, 2]
    samples = 1
    if case == "small capture":
        monkeypatch.setattr(parallel, "MIN_PARALLEL_SAMPLES", 1 << 20)
        samples = (1 << 20) // len(rows) - 1
    if case == "numpy paths":
        monkeypatch.setattr(kernels, "compiled", None)
    assert set(map_channels(lambda _: threading.get_ident(), rows, samples)) == {threading.get_ident()}


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2", True])
def test_set_threads_rejects_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match=r"set_threads: expected a whole number of threads >= 1"):
        parallel.set_threads(bad)


def test_the_environment_sets_the_default(monkeypatch):
    monkeypatch.setenv(parallel.ENV_VAR, "3")
    assert parallel._from_environment() == 3
    monkeypatch.delenv(parallel.ENV_VAR)
    assert parallel._from_environment() == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("bad", ["0", "two", "1.5", ""])
def test_a_bad_environment_value_names_the_variable(bad, monkeypatch):
    monkeypatch.setenv(parallel.ENV_VAR, bad)
    with pytest.raises(ValueError, match=f"environment variable {parallel.ENV_VAR}: expected a whole number"):
        parallel._from_environment()


# Each passes on every channel (a failing check would be plotted, which is slow), the envelopes
# with violations inside their strictness.
CHECKS = {
    "rms": lambda c: rms(c, low=0.5, high=1.0, hysteresis=0.2),
    "is_constant": lambda c: is_constant(c, 0.0, 0.9, strictness=0.5),
    "in_envelope": lambda c: in_envelope(
        c, lower=[(0, -1.0), (1, -0.8)], upper=[(0, 1.0), (1, 0.8)], strictness=0.5
    ),
    "ripple": lambda c: ripple(c, max_peak_to_peak=3.0),
    "step_info": lambda c: step_info(c, step_time_s=0.25),
    "find_crossing": lambda c: find_crossing(c, 0.9, direction="either"),
}


def _evidence(result) -> str:
    """Everything a result tells, exactly (repr keeps every digit, and NaN equals NaN in it)."""
    return repr(
        [
            (
                o.channel,
                o.passed,
                o.detail,
                o.violations,
                {k: np.asarray(q.value).tolist() for k, q in o.values.items()},
            )
            for o in result.outcomes
        ]
    )


@pytest.mark.parametrize("check", list(CHECKS))
def test_a_check_gives_the_same_on_two_threads_as_in_turn(check, threads, compiled, rng):
    # Channels that differ, so that a result landing on the wrong channel shows.
    n = 200_000
    t = np.arange(n) / n
    x = np.vstack(
        [
            a * np.sin(2 * np.pi * f * t) + np.where(t > 0.25, s, 0.0) + rng.normal(0, 0.02, n)
            for a, f, s in [(1.0, 20, 0.0), (0.95, 30, 0.1), (1.05, 25, -0.2), (0.9, 40, 0.3)]
        ]
    )
    cap = Capture.from_arrays(x, float(n), ["a", "b", "c", "d"])
    threads(1)
    in_turn = CHECKS[check](cap)
    assert in_turn, in_turn
    threads(2)
    assert _evidence(CHECKS[check](cap)) == _evidence(in_turn)
