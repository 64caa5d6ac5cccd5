"""The golden unit is certified by the whole eol subset, repeatably: ``hil certify`` twice on one
serial, one after the other, into one store. Both PASS, as attempts 1 and 2 (the first
kept), every measurement gets the same verdict both times, and each attempt's certificates verify
against the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hil.results.store import Store

# a drive scenario on a simulated bench in real time: its TSC1 stream and waits starve beside a
# second worker on two cores, and two certifications side by side starved each other the same way
# (several writers at once are tests/results/test_store.py's)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
SERIAL = "EDS200-2026-0042"


@pytest.mark.slow
def test_the_golden_unit_is_certified_twice_with_the_same_verdicts(tmp_path):
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"

    def certify(n: int) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "hil", "certify", "--serial", SERIAL, "--bench", "benches/sim.yaml",
             "--db", db, "--certificates", str(tmp_path / "certificates"), "--operator", f"bench {n}"],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip

    for n in (1, 2):
        done = certify(n)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    with Store(db) as store:
        history = store.unit_history(SERIAL)
        records = [store.run_record(run["id"]) for run in history]
    assert sorted(run["attempt"] for run in history) == [1, 2]
    assert [run["outcome"] for run in history] == ["pass", "pass"]

    def verdicts(record: dict) -> dict[tuple[str, str], str]:
        return {(t["node_id"], m["name"]): m["verdict"] for t in record["tests"] for m in t["measurements"]}

    assert verdicts(records[0]), "the eol subset recorded nothing"
    assert verdicts(records[0]) == verdicts(records[1])
    for attempt in (1, 2):
        verified = subprocess.run(
            [sys.executable, "-m", "hil", "verify", str(tmp_path / "certificates" / SERIAL / str(attempt)),
             "--db", db],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
