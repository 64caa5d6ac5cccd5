"""A nightly that could not start writes no report: the last real one and its trend stay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_bench_that_does_not_open_leaves_the_last_report(tmp_path):
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("the last good night", encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'r.sqlite'}"
    command = [
        sys.executable, "-m", "hil", "nightly", "--bench", "benches/lab-example.yaml",
        "--results", str(tmp_path / "results"), "--report", str(report), "--db", store, "-k", "dyno",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the run could not start (exit 3); no report written" in done.stdout
    assert (report / "index.html").read_text(encoding="utf-8") == "the last good night"
