"""Channels checked side by side: they do run side by side, and give what they give in turn."""

from __future__ import annotations

import os
import select
import signal
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
    streaming,
)
from hil.waveform.parallel import map_channels


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch):
    """Set the checker's thread count for one test; small captures are shared out too."""
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    before = parallel.threads()
    yield parallel.set_threads
    parallel.set_threads(before)


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


def test_the_first_failing_channel_raises_in_the_caller_after_every_channel_ran(threads, compiled):
    threads(2)
    ran = []

    def work(row: int) -> int:
        ran.append(row)
        if row in (1, 3):
            raise ValueError(f"channel {row} broke")
        return row

    with pytest.raises(ValueError, match="channel 1 broke"):
        map_channels(work, [0, 1, 2, 3, 4], 1)
    assert sorted(ran) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "case", ["one thread", "one channel", "small capture", "numpy paths"], ids=lambda c: c.replace(" ", "-")
)
def test_channels_run_in_turn_in_the_caller(case, threads, compiled, monkeypatch):
    threads(1 if case == "one thread" else 2)
    rows = [0] if case == "one channel" else [0, 1, 2]
    row_bytes = 1
    if case == "small capture":
        monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 1 << 20)
        row_bytes = (1 << 20) // len(rows) - 1
    if case == "numpy paths":
        monkeypatch.setattr(kernels, "compiled", None)
    assert set(map_channels(lambda _: threading.get_ident(), rows, row_bytes)) == {threading.get_ident()}


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


@pytest.fixture
def start_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller waits for the pool thread before taking a channel, so that both take channels:
    otherwise the caller may finish a small capture alone."""
    together = threading.Barrier(2, timeout=10)
    work = parallel._Share.work

    def work_when_both_are_up(share: parallel._Share) -> None:
        together.wait()
        work(share)

    monkeypatch.setattr(parallel._Share, "work", work_when_both_are_up)


@pytest.mark.parametrize("check", list(CHECKS))
def test_a_check_gives_the_same_on_two_threads_as_in_turn(check, threads, compiled, start_together, rng):
    # Channels that differ, so that a result landing on the wrong channel shows.
    n = 200_000
    t = np.arange(n) / n
    x = np.vstack(
        [
            a * np.sin(2 * np.pi * f * t) + np.where(t > 0.25, s, 0.0) + rng.normal(0, 0.02, n)
            for a, f, s in [(1.0, 20, 0.0), (0.95, 30, 0.1), (1.05, 25, -0.2), (0.9, 40, 0.3)] * 2
        ]
    )
    cap = Capture.from_arrays(x, float(n), list("abcdefgh"))
    threads(1)
    in_turn = CHECKS[check](cap)
    assert in_turn, in_turn
    threads(2)
    for _ in range(3):  # state shared by mistake shows only when both threads touch it at once
        assert _evidence(CHECKS[check](cap)) == _evidence(in_turn)


def _noise_and_sine(rng: np.random.Generator, spans: int) -> np.ndarray:
    n = spans * 4096
    t = np.arange(n) / n
    return np.vstack([rng.normal(0, 1, n), np.sin(2 * np.pi * 50 * t)]).astype(np.float32)


def test_threads_on_one_counter_share_a_noisy_channel_span_by_span(compiled, rng):
    # two threads in lockstep, each call taking one span: they take turns, the noisy row's too
    rows = list(_noise_and_sine(rng, 20))
    table = np.array([(k, a, a + 4096) for k in range(2) for a in range(0, rows[k].size, 4096)], np.int64)
    taken = np.zeros(1, np.int64)
    got: dict[str, list[int]] = {"a": [], "b": []}
    step = threading.Barrier(2, timeout=10)

    def take(name: str) -> None:
        while True:
            step.wait()
            part = kernels.compiled.cycles_shared(rows, table, taken, 0.0, 0.0, 0.0, 4096.0, 0.0, 1)
            if not part:
                return
            got[name] += [i for i, _ in part]

    other = threading.Thread(target=take, args=("b",))
    other.start()
    take("a")
    other.join(10)
    assert sorted(got["a"] + got["b"]) == list(range(40))
    assert len(got["a"]) == len(got["b"]) == 20
    assert all(min(spans) < 20 for spans in got.values())  # spans 0-19 are the noise


def test_threads_free_to_run_take_every_span_once(compiled, rng):
    rows = list(_noise_and_sine(rng, 200))
    table = np.array([(k, a, a + 4096) for k in range(2) for a in range(0, rows[k].size, 4096)], np.int64)
    taken = np.zeros(1, np.int64)
    parts: list[list] = []
    together = threading.Barrier(2, timeout=10)

    def take() -> None:
        together.wait()
        parts.append(kernels.compiled.cycles_shared(rows, table, taken, 0.0, 0.0, 0.0, 4096.0, 0.0))

    other = threading.Thread(target=take)
    other.start()
    take()
    other.join(10)
    assert sorted(i for part in parts for i, _ in part) == list(range(400))
    alone = kernels.compiled.cycles_shared(rows, table, np.zeros(1, np.int64), 0.0, 0.0, 0.0, 4096.0, 0.0)
    by_span = dict(i_span for part in parts for i_span in part)
    for i, span in alone:
        assert [bytes(a) for a in span[:3]] == [bytes(a) for a in by_span[i][:3]] and span[3:] == by_span[i][
            3:
        ]


def test_one_noisy_channel_on_two_threads_gives_what_one_thread_gives(threads, compiled, rng, monkeypatch):
    monkeypatch.setattr(streaming, "SPAN", 4096)
    cap = Capture.from_arrays(_noise_and_sine(rng, 40), 40 * 4096.0, ["noise", "sine"])
    threads(1)
    in_turn = rms(cap, low=0.0, high=10.0)
    assert in_turn.outcomes[0].values["n_cycles"].value > 10_000, in_turn
    threads(2)
    for _ in range(3):
        assert _evidence(rms(cap, low=0.0, high=10.0)) == _evidence(in_turn)


def test_a_forked_child_checks_on_a_pool_of_its_own(threads, compiled):
    threads(2)
    map_channels(lambda r: r, [0, 1], 1)  # the parent's pool is up
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's pool has no threads here
        try:
            meeting = threading.Barrier(2, timeout=5)  # broken unless a pool thread takes a channel

            def meet(row: int) -> int:
                meeting.wait()
                return row

            ok = map_channels(meet, [0, 1], 1) == [0, 1]
            os.write(write, b"ok" if ok else b"wrong")
        finally:
            os._exit(0)
    os.close(write)
    answered: list[int] = []
    try:
        answered, _, _ = select.select([read], [], [], 20)
        assert answered, "the child's check never finished"
        assert os.read(read, 16) == b"ok"
    finally:
        os.close(read)
        if not answered:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
