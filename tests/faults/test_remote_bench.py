"""One long-running `hil-sim serve`, two runs against it: the second finds the bench as the first
found it (the served bench is power-cycled when its last client leaves), and a run refuses
--unit-profile on a bench it does not start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hil.soak import POWER_CYCLE
from tests.served import bench_copy, served

ROOT = Path(__file__).resolve().parents[2]
# BMS-08 leaves the BMS after failed pre-charges; the readiness scenario needs its contactors closed again
SCENARIOS = [
    "test_suites/bms/test_bms08_precharge_failure.py",
    "test_suites/bench/test_bench_readiness.py::test_analyzer_agrees_with_the_supply_on_the_dc_bus",
]


def _run(bench: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--bench={bench}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_second_run_against_one_served_bench_starts_clean(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "sim-remote.yaml", free=True)
    with served(bench) as (server, seen):
        assert any(line.startswith("control ") and "127.0.0.1:" in line for line in seen), "".join(seen)
        for run in (1, 2):
            done = _run(bench, *SCENARIOS)
            assert done.returncode == 0 and "2 passed" in done.stdout, f"run {run}:\n{done.stdout[-3000:]}"
    assert server.returncode == 0, "".join(seen)
    assert f"{POWER_CYCLE} 1)" in "".join(seen), "".join(seen)


def test_unit_profile_on_a_served_bench_is_refused(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "sim-remote.yaml", free=True)
    done = _run(bench, "--unit-profile=sim/profiles/defects/ov_trip_high.yaml", SCENARIOS[1])
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--unit-profile: bench" in done.stdout + done.stderr
    assert "starts no simulator" in done.stdout + done.stderr
