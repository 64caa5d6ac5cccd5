"""Every way out of a scenario ends in the safe-state sequence, in order, with all outputs off.

A child pytest runs an energised scenario on the simulated bench with the emulators' command log
written to a file; the log's state-changing commands must end with the safe-state sequence.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios" / "energised.py"

# (instrument, command) as sent by the drivers; queries and polls in between are not state changes
SAFE_STATE_TAIL = [
    ("dyno", "Q1,0.00"),
    ("dyno", "N1,0.0"),
    ("dyno", "N1"),  # free run: speed mode released, then torque mode and brake
    ("dyno", "Q1"),
    ("eload", "LOAD OFF"),
    ("isofault", "ROUTe:OPEN:ALL"),
    ("tempsim", "SOURce:DATA 0000100000"),  # the NTC's 10 kΩ at 25 °C
    ("supply", "VOLT:SLEW 0.808000"),  # 1000 V/s over the 808 V range
    ("supply", "VOLT 0.000"),
    ("supply", "OUTP OFF"),
    ("cellsim", "OUTP OFF,(@1:24)"),
]
OUTPUT_COMMANDS = {
    "supply": ("OUTP ON", "OUTP OFF"),
    "eload": ("LOAD ON", "LOAD OFF"),
    "cellsim": ("OUTP ON,(@1:24)", "OUTP OFF,(@1:24)"),
}


def _state_changes(log: Path) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    changes = []
    for record in records:
        command = record["command"].strip()
        if command.endswith("?") or "?" in command.split(" ")[0] or command.upper() in ("OD1", "STAT"):
            continue
        changes.append((record["instrument"], command))
    return changes


def _run(
    tmp_path: Path, test: str, send: signal.Signals | None, to_group: bool
) -> tuple[subprocess.CompletedProcess, Path]:
    log, mark = tmp_path / "commands.jsonl", tmp_path / "energised"
    command = [
        sys.executable, "-m", "pytest", f"{SCENARIOS}::{test}", "-p", "no:cacheprovider", "-q",
        f"--sim-log={log}", f"--bench={ROOT / 'benches' / 'sim.yaml'}",
    ]  # fmt: skip
    env = {**os.environ, "HIL_SCENARIO_MARK": str(mark)}
    # a session of its own, so that its process group can be signalled as a terminal's Ctrl-C does
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        if send is not None:
            deadline = time.monotonic() + 60
            while not mark.exists():
                assert child.poll() is None, child.stdout.read()
                assert time.monotonic() < deadline, "scenario never energised"
                time.sleep(0.05)
            if to_group:
                os.killpg(child.pid, send)
            else:
                child.send_signal(send)
        out, _ = child.communicate(timeout=90)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return subprocess.CompletedProcess(command, child.returncode, out), log


@pytest.mark.parametrize(
    ("test", "send", "to_group", "expect_in_output"),
    [
        ("test_fails", None, False, "deliberate failure"),
        ("test_raises", None, False, "deliberate error"),
        ("test_dwells", signal.SIGINT, False, "KeyboardInterrupt"),
        # Ctrl-C reaches the whole foreground process group: the simulator must outlive it until
        # the safe state has run against it
        ("test_dwells", signal.SIGINT, True, "KeyboardInterrupt"),
        ("test_dwells", signal.SIGTERM, False, "BenchTerminated"),
    ],
    ids=["fail", "error", "sigint", "ctrl-c-to-group", "sigterm"],
)
def test_every_exit_ends_in_the_safe_state(tmp_path, test, send, to_group, expect_in_output):
    done, log = _run(tmp_path, test, send, to_group)
    assert done.returncode != 0, done.stdout
    assert expect_in_output in done.stdout, done.stdout
    changes = _state_changes(log)
    assert ("supply", "OUTP ON") in changes, "scenario did not energise the bench"
    start = len(changes) - 1 - changes[::-1].index(SAFE_STATE_TAIL[0])
    tail = changes[start:]
    # the shaft is braked along a ramp: falling speed set points between zero torque and zero speed
    ramp = []
    while tail[1 + len(ramp)] != SAFE_STATE_TAIL[1]:
        ramp.append(tail[1 + len(ramp)])
    assert all(i == "dyno" and c.startswith("N1,") for i, c in ramp), ramp
    set_points = [float(c.split(",")[1]) for _, c in ramp]
    assert set_points == sorted(set_points, reverse=True), set_points
    assert [tail[0], *tail[1 + len(ramp) :]] == SAFE_STATE_TAIL, tail
    for instrument, (on, off) in OUTPUT_COMMANDS.items():
        last = [c for i, c in changes if i == instrument and c in (on, off)][-1]
        assert last == off, f"{instrument} output left on"
