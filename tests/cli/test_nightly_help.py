"""`hil nightly --help` lists the bench options a nightly takes, not only pytest's pass-through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_unit_and_bench_options():
    command = [sys.executable, "-m", "hil", "nightly", "--help"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    options = ("--bench", "--unit-profile", "--unit-serial", "--sim-log", "--benches", "--db", "--operator")
    for option in options:
        assert option in done.stdout, option
