"""What the guardian and safe-state tests share: a run of a scenario in a child pytest, the
simulated bench served beside it, and the command log read back."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.served import port_of
from tests.served import served as serve

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).parent / "scenarios" / "energised.py"

# (instrument, command) as the drivers send them; the dyno's falling speed ramp sits between the
# first two and is checked apart
SAFE_STATE_TAIL = [
    ("dyno", "Q1,0.00"),
    ("dyno", "N1,0.0"),
    ("dyno", "N1"),  # free run: speed mode released, then torque mode and brake
    ("dyno", "Q1"),
    ("eload", "LOAD OFF"),
    ("isofault", "ROUTe:OPEN:ALL"),
    ("tempsim", "SOURce:DATA 0000100000"),
    ("supply", "VOLT 0.000"),
    ("supply", "OUTP OFF"),
    ("cellsim", "OUTP OFF,(@1:24)"),
]
OUTPUTS = {
    "supply": ("OUTP ON", "OUTP OFF"),
    "eload": ("LOAD ON", "LOAD OFF"),
    "cellsim": ("OUTP ON,(@1:24)", "OUTP OFF,(@1:24)"),
}


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(poll_s)
    return found


def records(log: Path) -> list[dict[str, Any]]:
    """The command log's complete lines so far."""
    if not log.exists():
        return []
    data = log.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines() if line.strip()]


def state_changes(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    changes = []
    for record in found:
        command = record["command"].strip()
        if "?" in command or command.upper() in ("OD1", "STAT") or command.startswith("VOLT:SLEW"):
            continue  # queries, polls, and the slew (whose figure is the bench file's)
        changes.append((record["instrument"], command))
    return changes


def first_sequence(changes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first safe-state sequence in ``changes``, its dyno ramp taken out (checked falling)."""
    start = changes.index(SAFE_STATE_TAIL[0])
    tail = changes[start : start + 1]
    rest = changes[start + 1 :]
    ramp = []
    while rest and rest[0] != SAFE_STATE_TAIL[1]:
        ramp.append(rest.pop(0))
    assert all(i == "dyno" and c.startswith("N1,") for i, c in ramp), ramp
    points = [float(c.split(",")[1]) for _, c in ramp]
    assert points == sorted(points, reverse=True), points
    return tail + rest[: len(SAFE_STATE_TAIL) - 1]


def outputs_off(changes: list[tuple[str, str]]) -> None:
    for instrument, (on, off) in OUTPUTS.items():
        last = [c for i, c in changes if i == instrument and c in (on, off)]
        assert last and last[-1] == off, f"{instrument} output left on: {last[-3:]}"


@contextlib.contextmanager
def served(bench: Path, log: Path) -> Iterator[subprocess.Popen]:
    """``hil-sim serve`` on ``bench``: instruments that outlive any run, as a lab bench's do. A
    connection to the analyzer (which no safe state touches) is held throughout: a served bench
    power-cycles itself when its last client leaves, which a lab bench whose run died does not."""
    with serve(bench, "--log", str(log)) as (server, _):
        with socket.create_connection(("127.0.0.1", port_of(bench, "analyzer")), timeout=10):
            yield server


def start_run(
    tmp_path: Path, bench: Path, extra: list[str] = (), preexec: Callable[[], None] | None = None
) -> tuple[subprocess.Popen, Path]:
    """The scenario in a child pytest, in a session of its own so its process group can be killed
    as a closed terminal does; returns it and its mark file."""
    mark = tmp_path / "energised.json"
    command = [
        sys.executable, "-m", "pytest", f"{SCENARIO}::test_dwells", "-p", "no:cacheprovider", "-q",
        f"--bench={bench}", f"--guardian-dir={tmp_path / 'guardian'}", *extra,
    ]  # fmt: skip
    run = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "HIL_SCENARIO_MARK": str(mark)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=preexec,
    )
    return run, mark


def await_energised(run: subprocess.Popen, mark: Path) -> dict[str, Any]:
    def ready() -> bool:
        assert run.poll() is None, run.stdout.read()
        return mark.exists() and mark.read_text().endswith("}")

    wait_for(ready, 120, "scenario energised", poll_s=0.05)
    return json.loads(mark.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a child of this process not yet reaped still answers; its /proc state says it is done
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return False


def end_run(run: subprocess.Popen, guardian_pid: int | None) -> None:
    """Whatever a test left: the run's group killed and reaped, the guardian killed if still there."""
    if run.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        run.communicate(timeout=30)
    if guardian_pid is not None and alive(guardian_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(guardian_pid, signal.SIGKILL)
