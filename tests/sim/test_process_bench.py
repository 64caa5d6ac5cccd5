"""The simulated bench in a process of its own (``process: true``): what it serves, what it reports
before it is ready, and that it never outlives the process that started it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import can
import pytest

import sim.process
from sim.process import ProcessBench
from sim.service import start
from tests.sim.conftest import instruments, port_is_free, wait_for

REPO = Path(__file__).resolve().parents[2]
CAN = {"interface": "socketcand", "host": "127.0.0.1", "port": 0, "channel": "can0"}
EEC1_ID = 0x0CF00400


def _ports(resources: dict[str, str], can_kwargs: dict[str, Any]) -> list[int]:
    return [int(r.split("::")[2]) for r in resources.values()] + [can_kwargs["port"]]


def _gone(pid: int) -> bool:
    """Exited: reaped, or a zombie whose parent has not reaped it yet (it holds no port then)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.fixture
def process_bench() -> Iterator[ProcessBench]:
    bench = start(instruments(), CAN, {"process": True, "seed": 7, "serial": "EDS200-2026-0007"})
    yield bench
    bench.stop()


def test_serves_instruments_and_can_and_stops_without_a_trace(process_bench, resource_manager) -> None:
    bench = process_bench
    assert isinstance(bench, ProcessBench) and bench.pid != os.getpid()
    assert sorted(bench.resources) == ["analyzer", "cellsim", "dyno", "eload", "supply"]
    assert all(r.startswith("TCPIP0::127.0.0.1::") for r in bench.resources.values())
    assert bench.can_kwargs == {**CAN, "port": bench.can_kwargs["port"]} and bench.can_kwargs["port"] > 0
    assert bench.unit_serial == "EDS200-2026-0007"
    ports = _ports(bench.resources, bench.can_kwargs)
    assert not any(port_is_free(p) for p in ports)

    cells = resource_manager.open_resource(
        bench.resources["cellsim"], read_termination="\n", write_termination="\n"
    )
    assert cells.query("*IDN?") == "Chroma ATE,87001-24,SIM-CS-0001,1.30-SIM"
    cells.write("SOUR:VOLT 3.4,(@1);OUTP ON")
    assert float(cells.query("MEAS:VOLT? (@1)")) == pytest.approx(3.4)
    cells.close()
    with can.Bus(**bench.can_kwargs) as bus:
        wait_for(lambda: (m := bus.recv(1.0)) is not None and m.arbitration_id == EEC1_ID, what="EEC1")
    records = bench.command_log()
    assert [(r["instrument"], r["header"], r["args"]) for r in records] == [
        ("cellsim", "*IDN?", []),
        ("cellsim", "SOUR:VOLT", ["3.4", "(@1)"]),
        ("cellsim", "OUTP", ["ON"]),
        ("cellsim", "MEAS:VOLT?", ["(@1)"]),
    ]
    log_file = bench.log_path
    assert log_file.exists()

    bench.stop()
    bench.stop()  # idempotent
    assert bench._process.returncode == 0  # reaped after a clean stop: no zombie
    assert all(port_is_free(p) for p in ports)
    assert not log_file.exists(), "the temporary command log is removed at stop"


def test_command_log_file_named_by_the_log_option_is_kept_and_read_from_this_run(
    tmp_path, resource_manager
) -> None:
    path = tmp_path / "commands.jsonl"
    path.write_text(json.dumps({"instrument": "earlier run"}) + "\n")
    bench = start(instruments(), CAN, {"process": True, "log": str(path)})
    try:
        supply = resource_manager.open_resource(
            bench.resources["supply"], read_termination="\n", write_termination="\n"
        )
        supply.write("VOLT 12")
        assert float(supply.query("VOLT?")) == 12.0
        supply.close()
        assert [r["header"] for r in bench.command_log()] == ["SOUR:VOLT", "SOUR:VOLT?"]
    finally:
        bench.stop()
    assert len(path.read_text().splitlines()) == 3, "kept, appended to"


def test_several_process_benches_run_at_once(resource_manager) -> None:
    benches = []
    try:
        for _ in range(2):
            benches.append(start(instruments(), CAN, {"process": True}))
        first, second = (_ports(b.resources, b.can_kwargs) for b in benches)
        assert not set(first) & set(second)
        supplies = [
            resource_manager.open_resource(
                b.resources["supply"], read_termination="\n", write_termination="\n"
            )
            for b in benches
        ]
        for supply, volts in zip(supplies, (12, 20), strict=True):
            supply.write(f"VOLT {volts}")
        assert [float(s.query("VOLT?")) for s in supplies] == [12.0, 20.0], "each its own bench"
        for supply in supplies:
            supply.close()
    finally:
        for bench in benches:
            bench.stop()


@pytest.mark.parametrize(
    "case",
    ["bad unit", "unknown override", "unknown driver", "port taken", "not loopback"],
)
def test_an_error_before_ready_is_the_in_process_error(case: str) -> None:
    items, options = instruments(), {}
    holder = None
    if case == "bad unit":
        options = {"set": {"motor.stator_resistance": "15 mV"}}
    elif case == "unknown override":
        options = {"set": {"motor.warp_factor": 9}}
    elif case == "unknown driver":
        items.append({**items[0], "name": "scope", "driver": "acme.zz9"})
    elif case == "port taken":
        holder = socket.create_server(("127.0.0.1", 0))
        items[1]["resource"] = f"TCPIP0::127.0.0.1::{holder.getsockname()[1]}::SOCKET"
    else:
        items[0]["resource"] = "TCPIP0::bench.example::0::SOCKET"
    try:
        with pytest.raises((ValueError, OSError)) as in_process:
            start(items, CAN, options)
        with pytest.raises((ValueError, OSError)) as own_process:
            start(items, CAN, {**options, "process": True})
    finally:
        if holder is not None:
            holder.close()
    assert type(own_process.value) is (OSError if isinstance(in_process.value, OSError) else ValueError)
    assert str(own_process.value) == str(in_process.value)


def test_a_virtual_can_bus_cannot_cross_processes() -> None:
    with pytest.raises(ValueError, match=r"can\.interface 'virtual': .* serves CAN over socketcand"):
        start(instruments(), {"interface": "virtual", "channel": "x"}, {"process": True})


def test_a_child_that_dies_before_ready_is_named_with_its_exit_code_and_stderr(monkeypatch) -> None:
    script = "import sys; sys.stderr.write('first\\nno module named plant\\n'); sys.exit(3)"
    monkeypatch.setattr(sim.process, "child_command", lambda: [sys.executable, "-c", script])
    with pytest.raises(ChildProcessError) as caught:
        start(instruments(), CAN, {"process": True})
    message = str(caught.value)
    assert "exited with code 3 before it was ready" in message
    assert "last stderr: first | no module named plant" in message and "\n" not in message


def test_a_child_that_says_nothing_is_killed_at_the_start_timeout(monkeypatch, tmp_path) -> None:
    pid_file = tmp_path / "pid"
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    monkeypatch.setattr(sim.process, "child_command", lambda: [sys.executable, "-c", script])
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"not ready within 1 s, killed; nothing on stderr"):
        start(instruments(), CAN, {"process": True, "start_timeout_s": 1})
    assert time.monotonic() - started < 10
    assert _gone(int(pid_file.read_text()))


def test_stop_kills_a_child_that_ignores_being_asked(monkeypatch) -> None:
    ready = json.dumps({"ready": {"resources": {}, "can_kwargs": CAN, "unit_serial": "EDS200-SIM-0001"}})
    script = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"print({ready!r}, flush=True); time.sleep(60)"
    )
    monkeypatch.setattr(sim.process, "child_command", lambda: [sys.executable, "-c", script])
    monkeypatch.setattr(sim.process, "STOP_POLITE_S", 0.5)
    monkeypatch.setattr(sim.process, "STOP_TERM_S", 0.5)
    bench = start(instruments(), CAN, {"process": True})
    bench.stop()
    assert bench._process.returncode == -signal.SIGKILL


PARENT = """
import json, sys, time
sys.path.insert(0, {repo!r})
from sim.service import start
from tests.sim.conftest import instruments
bench = start(instruments(), {can!r}, {{"process": True}})
served = {{"pid": bench.pid, "resources": bench.resources, "can_kwargs": bench.can_kwargs}}
print(json.dumps(served), flush=True)
time.sleep(120)
"""


def test_the_simulator_does_not_outlive_a_killed_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(repo=str(REPO), can=CAN)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        report = json.loads(parent.stdout.readline())
        ports = _ports(report["resources"], report["can_kwargs"])
        assert not any(port_is_free(p) for p in ports)
        parent.kill()  # SIGKILL: no cleanup of any kind runs in the parent
        parent.wait()
        wait_for(lambda: _gone(report["pid"]), timeout_s=10, what="the orphaned simulator exiting")
        wait_for(lambda: all(port_is_free(p) for p in ports), timeout_s=5, what="its ports released")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
