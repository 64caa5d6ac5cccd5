"""Run records shaped as the store returns them, with limits and clauses from the project's specs/."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hil.specs import load_specs

REPO = Path(__file__).resolve().parents[2]
SERIAL = "EDS200-2026-0001"


def _value(low: float, high: float) -> float:
    if math.isinf(low):
        return round(high * 0.5, 6)
    if math.isinf(high):
        return round(low * 1.5 + 1, 6)
    return round((low + high) / 2, 6)


def make_record(scenarios: int = 13, attempt: int = 1) -> dict:
    """A complete passing certification run: ``scenarios`` tests, each with its clause's measurements."""
    by_scenario: dict[str, list] = {}
    for name, spec in load_specs(REPO / "specs").items():
        scenario = spec.clause.split()[0]
        if re.fullmatch(r"[A-Z]+-\d+", scenario):
            by_scenario.setdefault(scenario, []).append((name, spec))
    tests = []
    for number, (scenario, specs) in enumerate(list(by_scenario.items())[:scenarios]):
        measurements = [
            {
                "name": name,
                "value": _value(spec.low, spec.high),
                "unit": spec.unit,
                "low": None if math.isinf(spec.low) else spec.low,
                "high": None if math.isinf(spec.high) else spec.high,
                "marginal": spec.marginal,
                "verdict": "pass",
                "clause": spec.clause,
                "source": spec.source,
                "taken": f"2026-12-02T06:{31 + number:02d}:02.123+00:00",
            }
            for name, spec in specs
        ]
        tests.append(
            {
                "node_id": f"test_suites/x/test_{scenario.lower().replace('-', '')}.py::test_{number}",
                "scenario": scenario,
                "outcome": "passed",
                "attempt": 1,
                "duration_s": 12.3 + number,
                "measurements": measurements,
            }
        )
    assert len(tests) == scenarios, "specs/ hold fewer scenarios than asked for"
    return {
        "run": {
            "id": 12,
            "kind": "certification",
            "attempt": attempt,
            "bench_file": "benches/sim.yaml",
            "bench_sha256": "b" * 64,
            "operator": "Li Wei",
            "host": "bench-3",
            "started": "2026-12-02T06:30:00+00:00",
            "ended": "2026-12-02T06:52:10+00:00",
            "revision": "884643d",
            "specs_sha256": "5" * 64,
            "outcome": "pass",
            "complete": True,
            "unit_profile": "sim/profiles/golden.yaml",
            "seed": 0,
        },
        "unit": {
            "serial": SERIAL,
            "model": "EDS200",
            "part_number": "EDS200-IM4-01",
            "firmware": "EDS 2.4.1",
            "vin": "LEDS2011WVT000042",
        },
        "instruments": [
            {
                "name": "supply",
                "kind": "supply",
                "driver": "itech.it6000c",
                "identity": "ITECH Electronics,IT6054C-800-225,SIM-PS-0001,000.006.101,640.R,132.R",
                "serial": "SIM-PS-0001",
                "calibration_due": "2027-06-30",
            },
            {
                "name": "analyzer",
                "kind": "analyzer",
                "driver": "yokogawa.wt5000",
                "identity": "YOKOGAWA,WT5000,SIM-PA-0001,F1.0",
                "serial": "SIM-PA-0001",
                "calibration_due": "2027-03-31",
            },
        ],
        "tests": tests,
        "attachments": [{"path": "reports/plots/inv01.png", "sha256": "a" * 64}],
    }


def fail(record: dict, test: int = 1, measurement: int = 0) -> dict:
    """The record with one measurement out of its limits and the run failed."""
    failed = copy.deepcopy(record)
    m = failed["tests"][test]["measurements"][measurement]
    m["value"] = (m["high"] if m["high"] is not None else m["low"]) + 50.0
    m["verdict"] = "fail"
    failed["tests"][test]["outcome"] = "failed"
    failed["run"]["outcome"] = "fail"
    return failed


@pytest.fixture
def record() -> dict:
    return make_record()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict, str], Path]:
    from hil.certificate import write_certificates

    def _write(record: dict, name: str = "cert") -> Path:
        write_certificates(record, tmp_path / name)
        return tmp_path / name

    return _write
