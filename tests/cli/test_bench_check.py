"""`hil bench check` on the shipped bench files."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.cli import unverified_lines
from hil.config import load_bench
from tests.served import bench_copy, port_of, served

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
    warnings = unverified_lines(load_bench(ROOT / "benches/lab-example.yaml"))
    assert warnings and set(warnings) <= set(done.stderr.splitlines())  # warned of; still exit 1
    assert elapsed < 15, f"took {elapsed:.1f} s"


def test_a_lab_bench_lists_the_commands_no_source_confirms():
    lines = unverified_lines(load_bench(ROOT / "benches/lab-example.yaml"))
    by_instrument = {line.split()[1]: line for line in lines}
    assert by_instrument["cellsim"].startswith(
        "WARNING cellsim (chroma.87001): unverified commands *IDN?, SYST:ERR?, SOUR:VOLT, "
    )
    assert "unverified commands STAT: no manual or proven driver confirms them" in by_instrument["dyno"]
    assert "unverified commands SOURce:DATA?:" in by_instrument["tempsim"]
    assert "isofault" not in by_instrument  # every command of the 34980A driver has a source
    # a simulated bench's emulators answer every command its drivers send: nothing to warn of
    assert unverified_lines(load_bench(ROOT / "benches/sim.yaml")) == []


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
    assert "WARNING" not in done.stderr


def test_remote_simulated_bench_answers_while_hil_sim_serve_runs(tmp_path):
    bench = bench_copy("sim-remote.yaml", tmp_path / "sim-remote.yaml", free=True)
    with served(bench) as (server, _):
        done = _check(str(bench))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"127.0.0.1::{port_of(bench, 'supply')}" not in done.stderr
        assert "can: interface=socketcand" in done.stdout and done.stdout.rstrip().endswith("ok")
        # a bench file without a simulator section is a lab bench: its unverified commands are listed,
        # and the bench still passes
        warned = [line for line in done.stderr.splitlines() if line.startswith("WARNING ")]
        assert warned == unverified_lines(load_bench(bench)) and warned, done.stderr
    assert server.returncode == 0
