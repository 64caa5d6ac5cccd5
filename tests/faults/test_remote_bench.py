"""One long-running `hil-sim serve`, two runs against it: the second finds the bench as the first
found it (the served bench is power-cycled when its last client leaves), and a run refuses
--unit-profile on a bench it does not start."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# BMS-08 leaves the BMS after failed pre-charges; the readiness scenario needs its contactors closed again
SCENARIOS = [
    "test_suites/bms/test_bms08_precharge_failure.py",
    "test_suites/bench/test_bench_readiness.py::test_analyzer_agrees_with_the_supply_on_the_dc_bus",
]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _remote_bench(tmp_path: Path) -> Path:
    text = (ROOT / "benches" / "sim-remote.yaml").read_text(encoding="utf-8")
    fixed = [int(p) for p in re.findall(r"127\.0\.0\.1::(\d+)::SOCKET", text)]
    can_port = int(re.search(r"^  port: (\d+)$", text, re.MULTILINE).group(1))
    free = _free_ports(len(fixed) + 1)
    for old, new in zip(fixed, free, strict=False):
        text = text.replace(f"127.0.0.1::{old}::SOCKET", f"127.0.0.1::{new}::SOCKET")
    path = tmp_path / "sim-remote.yaml"
    path.write_text(text.replace(f"  port: {can_port}\n", f"  port: {free[-1]}\n"), encoding="utf-8")
    return path


def _run(bench: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--bench={bench}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_second_run_against_one_served_bench_starts_clean(tmp_path):
    bench = _remote_bench(tmp_path)
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
        deadline = time.monotonic() + 60
        while not any("ready" in line for line in seen):
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(seen)
            seen.append(line)
            assert time.monotonic() < deadline, "".join(seen)
        assert any(line.startswith("control ") and "127.0.0.1:" in line for line in seen), "".join(seen)
        for run in (1, 2):
            done = _run(bench, *SCENARIOS)
            assert done.returncode == 0 and "2 passed" in done.stdout, f"run {run}:\n{done.stdout[-3000:]}"
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert "simulated bench reset (power cycle 1)" in out, out


def test_unit_profile_on_a_served_bench_is_refused(tmp_path):
    bench = _remote_bench(tmp_path)
    done = _run(bench, "--unit-profile=sim/profiles/defects/ov_trip_high.yaml", SCENARIOS[1])
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--unit-profile: bench" in done.stdout + done.stderr
    assert "starts no simulator" in done.stdout + done.stderr
