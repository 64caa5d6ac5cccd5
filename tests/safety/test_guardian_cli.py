"""`hil bench check` reports a bench left energised; `hil bench safe` brings it to its safe state by
hand with the same sequence a run ends with."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from guardian_rig import (
    ROOT,
    SAFE_STATE_TAIL,
    first_sequence,
    outputs_off,
    records,
    served,
    state_changes,
)

from hil.config import load_bench
from hil.guardian import open_drivers
from tests.served import bench_copy

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def _hil(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hil", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _energise(bench) -> dict:
    """As a run stopped mid-scenario leaves it; its sessions stay open (closed by the caller)."""
    config = load_bench(bench)
    drivers, failed = open_drivers(config, {})
    assert not failed, failed
    try:
        supply, eload, dyno = drivers["supply"], drivers["eload"], drivers["dyno"]
        supply.set_current_limit(100)
        supply.set_slew(1000)
        supply.set_voltage(600)
        supply.output_on()
        eload.set_mode("CCH")
        eload.set_current(10)
        eload.load_on()
        dyno.set_speed(1500)
        deadline = time.monotonic() + 30
        while supply.measure_voltage() < 590 or dyno.read().speed_rpm < 1400:
            assert time.monotonic() < deadline, "bench not energised within 30 s"
            time.sleep(0.05)
    except BaseException:
        _close(drivers)
        raise
    return drivers


def _close(drivers: dict) -> None:
    for driver in drivers.values():
        driver.close()


def test_check_reports_an_energised_bench_and_safe_brings_it_down(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", {}, free=True)
    log = tmp_path / "commands.jsonl"
    with served(bench, log):
        drivers = _energise(bench)
        try:
            check = _hil("check", "--bench", str(bench))
            assert check.returncode == 1, check.stdout + check.stderr
            energised = {
                line.split(":")[0].removeprefix("ENERGISED "): line
                for line in check.stderr.splitlines()
                if line.startswith("ENERGISED ")
            }
            assert set(energised) == {"supply", "eload", "dyno"}, check.stderr
            assert "output on" in energised["supply"] and " V at the output" in energised["supply"]
            assert "shaft turning at 1" in energised["dyno"] and "load on" in energised["eload"]
            assert f"hil bench safe --bench {bench}" in check.stderr
            row = next(line for line in check.stdout.splitlines() if line.startswith("supply "))
            assert "ENERGISED" in row

            before = len(records(log))
            safe = _hil("safe", "--bench", str(bench))
            assert safe.returncode == 0, safe.stdout + safe.stderr
            reported = [line.split()[0] for line in safe.stdout.splitlines()[1:-1]]
            assert reported == ["dyno", "eload", "isofault", "tempsim", "supply", "cellsim"], safe.stdout
            assert all(line.split()[1] == "ok" for line in safe.stdout.splitlines()[1:-1]), safe.stdout
            assert safe.stdout.rstrip().endswith("safe state reached")
            assert first_sequence(state_changes(records(log)[before:])) == SAFE_STATE_TAIL
            outputs_off(state_changes(records(log)))

            again = _hil("check", "--bench", str(bench))
            assert again.returncode == 0, again.stdout + again.stderr
            assert "ENERGISED" not in again.stdout + again.stderr
        finally:
            _close(drivers)


def test_safe_names_each_instrument_it_cannot_reach(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", {}, free=True)  # nothing serves it
    safe = _hil("safe", "--bench", str(bench))
    assert safe.returncode == 1, safe.stdout + safe.stderr
    lines = safe.stderr.splitlines()
    failed = [line.split()[0] for line in lines if "FAILED: " in line and "Connection refused" in line]
    assert failed == ["dyno", "eload", "isofault", "tempsim", "supply", "cellsim"], safe.stderr
    assert len(lines) == len(failed) + 1, safe.stderr  # one line per instrument, no log echo
    assert "Traceback" not in safe.stdout + safe.stderr
    assert safe.stderr.rstrip().endswith("safe state incomplete")


def test_safe_refuses_a_bad_bench_file(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "bench.yaml", {"step_timeout_s": ".inf"})
    safe = _hil("safe", "--bench", str(bench))
    assert safe.returncode == 2
    assert f"{bench}: safe_state.step_timeout_s:" in safe.stderr
