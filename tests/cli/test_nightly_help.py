"""`hil nightly --help` lists the bench options a nightly takes, not only pytest's pass-through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_unit_and_bench_options():
    done = subprocess.run(
        [sys.executable, "-m", "hil", "nightly", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for option in ("--bench", "--unit-profile", "--unit-serial", "--sim-log", "--benches", "--db", "--operator"):
        assert option in done.stdout, option
