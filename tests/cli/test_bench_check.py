"""`hil bench check` on the shipped bench files."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIL = [sys.executable, "-m", "hil"]


def _check(bench: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*HIL, "bench", "check", "--bench", bench], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_unreachable_lab_fails_fast_with_one_line_per_instrument():
    started = time.monotonic()
    done = _check("benches/lab-example.yaml")
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("FAILED ")]
    names = [re.match(r"FAILED (\w+) ", line).group(1) for line in failed]
    assert names == ["supply", "cellsim", "eload", "dyno", "analyzer", "tempsim", "isofault", "can"], (
        done.stderr
    )
    assert all("hil-" in line and ".lab.example" in line for line in failed[:7])
    assert "PAST DUE" in done.stdout  # the example's cell simulator is past its calibration date
    assert elapsed < 15, f"took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("bench", "can"),
    [
        ("benches/sim.yaml", "interface=socketcand host=127.0.0.1 port="),
        ("benches/sim-inprocess.yaml", "interface=virtual"),
    ],
    ids=["own-process", "in-process"],
)
def test_simulated_bench_answers(bench, can):
    done = _check(bench)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, serial in [("supply", "SIM-PS-0001"), ("dyno", "SIM-DY-0001"), ("analyzer", "SIM-PA-0001")]:
        row = next(line for line in done.stdout.splitlines() if line.startswith(name + " "))
        assert "no answer" not in row and serial in row and "bench file says" not in row
    assert f"can: {can}" in done.stdout and done.stdout.rstrip().endswith("ok")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _remote_bench_on_free_ports(tmp_path: Path) -> tuple[Path, int, int]:
    """benches/sim-remote.yaml with each of its fixed ports swapped for a free one (a busy machine
    may hold the shipped ones): the file, the supply's port and the CAN port."""
    text = (ROOT / "benches" / "sim-remote.yaml").read_text(encoding="utf-8")
    fixed = [int(p) for p in re.findall(r"127\.0\.0\.1::(\d+)::SOCKET", text)]
    can_port = int(re.search(r"^  port: (\d+)$", text, re.MULTILINE).group(1))
    free = _free_ports(len(fixed) + 1)
    for old, new in zip(fixed, free, strict=False):
        text = text.replace(f"127.0.0.1::{old}::SOCKET", f"127.0.0.1::{new}::SOCKET")
    text = text.replace(f"  port: {can_port}\n", f"  port: {free[-1]}\n")
    path = tmp_path / "sim-remote.yaml"
    path.write_text(text, encoding="utf-8")
    return path, free[0], free[-1]


def test_remote_simulated_bench_answers_while_hil_sim_serve_runs(tmp_path):
    bench, supply_port, can_port = _remote_bench_on_free_ports(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "serve", "--bench", str(bench)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        seen = []
        deadline = time.monotonic() + 30
        while not any(str(can_port) in line for line in seen):
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(seen)
            seen.append(line)
            assert time.monotonic() < deadline, "".join(seen)
        done = _check(str(bench))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"127.0.0.1::{supply_port}" not in done.stderr
        assert "can: interface=socketcand" in done.stdout and done.stdout.rstrip().endswith("ok")
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert server.returncode == 0
