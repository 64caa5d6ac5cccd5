"""The guardian brings the bench to its safe state when the run cannot: killed or stopped.

The simulated bench is served by ``hil-sim serve`` beside the run, so that its instruments outlive
the run as a lab bench's do; its command log is the ground truth of what reached the instruments.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from guardian_rig import (
    SAFE_STATE_TAIL,
    alive,
    await_energised,
    end_run,
    first_sequence,
    outputs_off,
    records,
    served,
    start_run,
    state_changes,
    wait_for,
)

from tests.served import bench_copy

pytestmark = [pytest.mark.slow, pytest.mark.serial]

# a bench whose safe state itself takes well under a second from 1500 rpm and 600 V
FAST = {"dyno_ramp_rpm_per_s": 7500, "supply_ramp_v_per_s": 4000, "heartbeat_timeout_s": 2}


def _guardian_sequence(log, after: int) -> list[tuple[str, str]]:
    return state_changes(records(log)[after:])


def _record(tmp_path) -> dict:
    found = wait_for(lambda: sorted((tmp_path / "guardian").glob("guardian-*.json")), 30, "guardian record")
    return json.loads(found[0].read_text())


def test_sigkill_of_the_runs_process_group_leaves_the_guardian_to_make_the_bench_safe(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", FAST, free=True)
    log = tmp_path / "commands.jsonl"
    with served(bench, log):
        run, mark = start_run(tmp_path, bench)
        guardian = None
        try:
            guardian = await_energised(run, mark)["guardian_pid"]
            assert guardian is not None and alive(guardian)
            before = len(records(log))
            os.killpg(run.pid, signal.SIGKILL)  # the run and everything in its group, as a closed terminal
            killed = time.monotonic()
            wait_for(
                lambda: ("cellsim", SAFE_STATE_TAIL[-1][1]) in _guardian_sequence(log, before),
                30,
                "guardian's safe state complete",
            )
            observed = time.monotonic() - killed
            acted = records(log)[before:]
            changes = state_changes(acted)
            assert first_sequence(changes) == SAFE_STATE_TAIL, changes
            outputs_off(state_changes(records(log)))
            # the emulators' own clock: first to last command of the guardian's sequence
            spent = acted[-1]["t"] - acted[0]["t"]
            assert spent < 1.0, f"guardian's safe state took {spent:.2f} s"
            # detection is the pipe closing, at once; the rest is connecting, which a loaded machine slows
            assert observed < 5.0, f"{observed:.2f} s from the kill to the safe state"
            record = _record(tmp_path)
            assert record["complete"] and "died" in record["reason"], record
            assert [s["instrument"] for s in record["steps"]] == [
                "dyno", "eload", "isofault", "tempsim", "supply", "cellsim",
            ]  # fmt: skip
            wait_for(lambda: not alive(guardian), 30, "guardian exits after acting")
            assert "bringing bench" in (tmp_path / "guardian" / "guardian.log").read_text()
        finally:
            end_run(run, guardian)


def test_sigstop_of_the_run_makes_the_guardian_act_within_the_heartbeat_timeout(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", FAST, free=True)
    log = tmp_path / "commands.jsonl"
    with served(bench, log):
        run, mark = start_run(tmp_path, bench)
        guardian = None
        try:
            guardian = await_energised(run, mark)["guardian_pid"]
            before = len(records(log))
            os.killpg(run.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            wait_for(lambda: records(log)[before:], 30, "guardian's first command", poll_s=0.01)
            acted_after = time.monotonic() - stopped
            assert acted_after < FAST["heartbeat_timeout_s"] + 1.0, f"acted {acted_after:.2f} s after SIGSTOP"
            assert acted_after > FAST["heartbeat_timeout_s"] - 0.5, "acted before the heartbeat timed out"
            wait_for(
                lambda: ("cellsim", SAFE_STATE_TAIL[-1][1]) in _guardian_sequence(log, before),
                30,
                "guardian's safe state complete",
            )
            assert first_sequence(_guardian_sequence(log, before)) == SAFE_STATE_TAIL
            record = _record(tmp_path)
            assert record["complete"] and "no heartbeat" in record["reason"], record
            wait_for(lambda: not alive(guardian), 30, "guardian exits after acting")
            # resumed, the run does not drive on: told what the guardian did, it ends by its own safe state
            os.killpg(run.pid, signal.SIGCONT)
            out, _ = run.communicate(timeout=120)
            assert "BenchTerminated" in out, out
            outputs_off(state_changes(records(log)))
        finally:
            end_run(run, guardian)


def test_a_run_that_ends_normally_stops_its_guardian_without_action(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", FAST, free=True)
    log = tmp_path / "commands.jsonl"
    with served(bench, log):
        run, mark = start_run(tmp_path, bench)
        guardian = None
        try:
            guardian = await_energised(run, mark)["guardian_pid"]
            os.kill(run.pid, signal.SIGTERM)
            out, _ = run.communicate(timeout=120)
            assert "BenchTerminated" in out, out
            wait_for(lambda: not alive(guardian), 10, "guardian stopped with the run")
            assert not list((tmp_path / "guardian").glob("guardian-*.json")), "guardian acted on a clean end"
            outputs_off(state_changes(records(log)))
        finally:
            end_run(run, guardian)
