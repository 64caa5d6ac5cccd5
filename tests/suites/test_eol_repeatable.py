"""The eol subset is repeatable: run twice on the same serial (two benches side by side), every
measurement gets the same verdict, and the golden unit passes it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hil.defects import run_suites

ROOT = Path(__file__).resolve().parents[2]
SERIAL = "EDS200-2026-0042"


@pytest.mark.slow
def test_eol_twice_on_one_serial_gives_the_same_verdicts(tmp_path):
    def run(n: int) -> dict:
        document, exit_code, tail = run_suites(
            bench=ROOT / "benches" / "sim.yaml",
            suites=ROOT / "test_suites",
            results=tmp_path / f"eol-{n}.json",
            args=["-m", "eol", f"--unit-serial={SERIAL}"],
        )
        assert document is not None, f"run {n}: no results (exit {exit_code}): {tail}"
        return document

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, (1, 2))

    def verdicts(document: dict) -> dict[tuple[str, str], str]:
        return {(t["nodeid"], m["name"]): m["outcome"] for t in document["tests"] for m in t["measurements"]}

    assert verdicts(first) == verdicts(second)
    assert verdicts(first), "the eol subset recorded nothing"
    outcomes = {t["nodeid"]: t["outcome"] for t in first["tests"]}
    assert set(outcomes.values()) == {"passed"}, outcomes
