"""``hil report``'s Allure results, made from the store alone: what each stored test becomes, evidence
that changed since it was recorded, a test the run's end cut off, and the command's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.report import full_name, measurement_line, write_results
from hil.results.store import Store
from tests.reports.conftest import hil

NODE = "test_suites/inverter/test_inv11_current_quality.py::test_inv11a_current_quality_at_half_load"


def _results(results: Path) -> dict[str, dict]:
    found = [json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json")]
    return {r["fullName"]: r for r in found}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(str(tmp_path / "hil.sqlite")) as opened:
        yield opened


def _run_with_evidence(store: Store, tmp_path: Path) -> tuple[int, Path]:
    run = store.start_run("nightly", serial="EDS200-SIM-0001", operator="Li Wei")
    test = store.start_test(run, NODE, scenario="INV-11a")
    store.add_measurement(
        test, name="inv.phase_current.thd_pct", value=8.0353, unit="%", low=float("-inf"), high=5.0,
        marginal=0.25, verdict="fail", clause="INV-11 THD_I <= 5 %", source="E",
    )  # fmt: skip
    plot = tmp_path / "capture-1.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    store.add_attachment(run, plot, test_id=test)
    store.end_test(test, "failed", 4.4)
    cut = store.start_test(run, "test_suites/bench/test_bench_readiness.py::test_dyno_holds_speed")
    store.add_measurement(
        cut, name="bench.dyno.speed_error_rpm", value=0.5, unit="rpm", low=-5.0, high=5.0, marginal=None,
        verdict="pass", clause="bench readiness", source="E",
    )  # fmt: skip
    store.end_run(run, "aborted")
    return run, plot


def test_a_stored_test_becomes_an_allure_result_with_its_evidence(store: Store, tmp_path: Path) -> None:
    run, plot = _run_with_evidence(store, tmp_path)
    write_results(store, run, tmp_path / "results")
    results = _results(tmp_path / "results")
    failed = results[full_name(NODE)]
    assert failed["status"] == "failed"
    assert failed["statusDetails"]["message"] == (
        "measurement out of limits:\n"
        "inv.phase_current.thd_pct = 8.0353 % FAIL (limits <= 5 %, INV-11 THD_I <= 5 % [E])"
    )
    assert failed["parameters"] == [
        {"name": "inv.phase_current.thd_pct", "value": "8.0353 %", "excluded": True}
    ]
    (evidence,) = failed["attachments"]
    assert (evidence["name"], evidence["type"]) == ("capture-1.png", "image/png")
    assert (tmp_path / "results" / evidence["source"]).read_bytes() == plot.read_bytes()
    cut = results[full_name("test_suites/bench/test_bench_readiness.py::test_dyno_holds_speed")]
    assert cut["status"] == "broken"
    assert cut["statusDetails"]["message"] == "no outcome: the run ended before this test did"
    environment = (tmp_path / "results" / "environment.properties").read_text(encoding="utf-8")
    assert "unit.serial=EDS200-SIM-0001\n" in environment and "operator=Li Wei\n" in environment
    assert f"run=nightly run {run} (aborted, aborted)" in environment


def test_evidence_changed_since_it_was_recorded_is_not_shown_as_evidence(
    store: Store, tmp_path: Path
) -> None:
    run, plot = _run_with_evidence(store, tmp_path)
    plot.write_bytes(plot.read_bytes()[:-1] + b"\x00")
    write_results(store, run, tmp_path / "results")
    (note,) = _results(tmp_path / "results")[full_name(NODE)]["attachments"]
    assert note["name"] == "CHANGED SINCE RECORDED: capture-1.png" and note["type"] == "text/plain"
    assert "not shown as evidence" in (tmp_path / "results" / note["source"]).read_text(encoding="utf-8")
    plot.unlink()
    write_results(store, run, tmp_path / "results")
    (note,) = _results(tmp_path / "results")[full_name(NODE)]["attachments"]
    assert "is missing" in (tmp_path / "results" / note["source"]).read_text(encoding="utf-8")


def test_full_name_is_allure_pytests() -> None:
    assert (
        full_name(NODE)
        == "test_suites.inverter.test_inv11_current_quality#test_inv11a_current_quality_at_half_load"
    )


@pytest.mark.parametrize(
    ("low", "high", "limits"),
    [(3.99, 4.01, "[3.99, 4.01] V"), (None, 2.0, "<= 2 V"), (-1.5, None, ">= -1.5 V"), (None, None, "none")],
)
def test_a_stored_measurement_reads_as_the_run_printed_it(low, high, limits) -> None:
    stored = {"name": "m", "value": 4.0369, "unit": "V", "verdict": "fail", "clause": "BMS-01", "source": "E"}
    line = measurement_line({**stored, "low": low, "high": high})
    assert line == f"m = 4.0369 V FAIL (limits {limits}, BMS-01 [E])"


def test_hil_report_refuses_what_it_cannot_render(store: Store, tmp_path: Path) -> None:
    db = str(tmp_path / "hil.sqlite")
    done = hil("report", "--db", db)
    assert (done.returncode, done.stderr.strip()) == (2, f"error: --db {db}: no runs recorded")
    done = hil("report", "7", "--db", db)
    assert (done.returncode, done.stderr.strip()) == (2, f"error: no run 7 in {db}")
    missing = tmp_path / "none.sqlite"
    done = hil("report", "--db", str(missing))
    assert done.returncode == 2 and "no result store there" in done.stderr
    assert not missing.exists()  # reading a store never makes one
