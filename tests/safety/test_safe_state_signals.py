"""A run's own safe state on the simulated bench in its own process: a second SIGTERM or Ctrl-C
during it does not cut it short, and SIGINT (even where a shell started the run with it ignored)
and SIGHUP end a run as SIGTERM does. The guardian is off here: this is the run's own doing."""

from __future__ import annotations

import signal

import pytest
from guardian_rig import (
    SAFE_STATE_TAIL,
    await_energised,
    end_run,
    first_sequence,
    outputs_off,
    records,
    start_run,
    state_changes,
    wait_for,
)

from tests.served import bench_copy

pytestmark = [pytest.mark.slow, pytest.mark.serial]

# braking from 1500 rpm takes 5 s: time to send a second signal in the middle of it
SLOW = {"dyno_ramp_rpm_per_s": 300, "step_timeout_s": 30, "guardian": False}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a non-interactive shell does to a background job


@pytest.mark.parametrize(
    ("first", "second", "preexec"),
    [
        (signal.SIGTERM, signal.SIGTERM, None),
        (signal.SIGINT, signal.SIGINT, None),
        (signal.SIGINT, None, _ignore_sigint),
        (signal.SIGHUP, None, None),
    ],
    ids=["second-sigterm", "second-sigint", "sigint-ignored-by-the-shell", "sighup"],
)
def test_the_runs_safe_state_completes_whatever_signals_arrive(tmp_path, first, second, preexec):
    bench = bench_copy("sim.yaml", tmp_path / "bench.yaml", SLOW)
    log = tmp_path / "commands.jsonl"
    run, mark = start_run(tmp_path, bench, [f"--sim-log={log}"], preexec)
    try:
        await_energised(run, mark)
        before = len(records(log))
        run.send_signal(first)
        wait_for(
            lambda: SAFE_STATE_TAIL[0] in state_changes(records(log)[before:]),
            60,
            f"safe state started after {first.name}",
            poll_s=0.01,
        )
        if second is not None:
            run.send_signal(second)  # mid-way down the dyno's 5 s ramp
        out, _ = run.communicate(timeout=180)
    finally:
        end_run(run, None)
    assert run.returncode != 0
    assert "BenchTerminated" in out or "KeyboardInterrupt" in out, out
    changes = state_changes(records(log)[before:])
    # the first sequence after the signal ran whole: no step cut short, none left out
    assert first_sequence(changes) == SAFE_STATE_TAIL, changes
    outputs_off(state_changes(records(log)))
