"""``hil defects``' bookkeeping: units and their expectations, what counts as failed, as blocked,
as an error, the table, and the results file a long matrix resumes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil import defects
from hil.defects import (
    DefectUnit,
    ResultsFile,
    UnitResult,
    blocked_at,
    failed_measurements,
    load_units,
    run_all,
    source_digest,
    table,
)
from hil.errors import HilError

ROOT = Path(__file__).resolve().parents[2]


def _unit(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


def test_every_shipped_defect_unit_loads():
    units = load_units(ROOT / "sim" / "profiles" / "defects")
    assert units and all(u.expected for u in units)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("description: x\n", "expected_failures: a non-empty list"),
        ("expected_failures: []\n", "expected_failures: a non-empty list"),
        ("expected_failures: [a]\nblocks: drive_ready\n", "blocks: a list"),
        ("expected_failures: [a\n", "not valid YAML"),
    ],
)
def test_a_bad_unit_file_is_named(tmp_path, body, message):
    path = _unit(tmp_path, "bad", body)
    with pytest.raises(HilError, match=message) as caught:
        load_units(tmp_path)
    assert str(path) in str(caught.value)


def test_an_unknown_unit_name_is_refused(tmp_path):
    _unit(tmp_path, "a", "expected_failures: [m]\n")
    with pytest.raises(HilError, match="no defect unit named nope"):
        load_units(tmp_path, ["nope"])


DOCUMENT = {
    "tests": [
        {"nodeid": "t1", "outcome": "failed", "measurements": [{"name": "a", "outcome": "fail"}]},
        {"nodeid": "t2", "outcome": "passed", "measurements": [{"name": "b", "outcome": "pass"}]},
        {
            "nodeid": "t3",
            "outcome": "error",
            "message": "hil.timing.WaitTimeout: drive_ready: BMS contactors closed: not reached within 6 s",
            "measurements": [],
        },
        {"nodeid": "t4", "outcome": "failed", "message": "KeyError: 'x'", "measurements": []},
    ]
}


def test_failed_measured_and_unjudged_tests_are_told_apart():
    measured, failed, errors = failed_measurements(DOCUMENT)
    assert measured == ["a", "b"] and failed == ["a"]
    assert len(errors) == 2 and errors[0].startswith("t3: error: hil.timing.WaitTimeout: drive_ready")
    assert blocked_at(errors[0]) == "drive_ready"
    assert blocked_at(errors[1]) is None


def test_the_table_marks_expected_missed_and_extra():
    unit = DefectUnit("u", Path("u.yaml"), "a defect", ("a", "c"))
    result = UnitResult(unit, failed=["a", "b"], measured=["a", "b", "c", "d"])
    assert result.missed == ["c"] and result.extra == ["b"] and not result.as_expected
    lines = table([result], ["a", "b", "c", "d", "e"]).splitlines()
    cells = {line.split()[0]: line.split()[1:] for line in lines[1:6]}
    assert cells == {"a": ["x"], "b": ["EXTRA"], "c": ["MISSED"], "d": ["."], "e": []}
    assert "u: a defect" in lines[-1]


def test_an_expectation_only_a_long_scenario_judges_is_not_missed_without_it():
    unit = DefectUnit("u", Path("u.yaml"), "a defect", ("a", "soc"))
    result = UnitResult(unit, judged=("a",), failed=["a"], measured=["a"])
    assert result.as_expected and result.missed == []
    cells = {line.split()[0]: line.split()[1:] for line in table([result], ["a", "soc"]).splitlines()[1:3]}
    assert cells == {"a": ["x"], "soc": ["long"]}
    # run with the long scenarios, the same unit that did not fail it has missed it
    assert UnitResult(unit, failed=["a"], measured=["a", "soc"]).missed == ["soc"]


SETTINGS = {"source": "0123abcd", "long": False, "only_expected": True}


def test_the_results_file_holds_each_unit_as_it_is_judged_and_gives_it_back(tmp_path):
    path = tmp_path / "matrix.json"
    units = [DefectUnit(n, Path(f"{n}.yaml"), n, ("a", "soc")) for n in ("u1", "u2")]
    first = ResultsFile(path, SETTINGS, resume=False)
    first.begin_segment(3)
    judged = UnitResult(
        units[0], judged=("a",), failed=["a"], measured=["a", "b"], blocked=["t: x"], wall_s=7.04
    )
    first.record(judged)
    # killed outright here, the file holds the unit and the run's share as far as it went
    on_disk = json.loads(path.read_text())
    assert on_disk["units"]["u1"]["failed"] == ["a"] and on_disk["run"]["source"] == "0123abcd"
    [segment] = on_disk["run"]["segments"]
    assert (segment["parallel"], segment["units_judged"], segment["end"]) == (3, 1, None)
    first.end_segment(interrupted=True)
    resumed = ResultsFile(path, SETTINGS, resume=True)
    [kept] = resumed.kept(units)
    assert (kept.unit, kept.judged, kept.failed, kept.measured, kept.blocked, kept.wall_s) == (
        units[0],
        ("a",),
        ["a"],
        ["a", "b"],
        ["t: x"],
        7.0,
    )
    assert kept.as_expected
    resumed.begin_segment(2)
    resumed.record(UnitResult(units[1], judged=("a",), failed=[], measured=["a"]))
    resumed.end_segment(interrupted=False)
    segments = json.loads(path.read_text())["run"]["segments"]
    assert [(s["units_judged"], s["end"]) for s in segments] == [(1, "interrupted"), (1, "finished")]
    assert resumed.wall_s == sum(s["wall_s"] for s in segments)
    # without --resume the file is started over
    assert ResultsFile(path, SETTINGS, resume=False).kept(units) == []


@pytest.mark.parametrize(
    ("held", "message"),
    [
        ({**SETTINGS, "long": True}, "run.long is True, this run's is False"),
        ({**SETTINGS, "source": "ffff"}, "run.source is 'ffff'"),
    ],
)
def test_a_results_file_of_other_sources_or_options_is_not_resumed(tmp_path, held, message):
    path = tmp_path / "matrix.json"
    ResultsFile(path, held, resume=False).begin_segment(1)
    with pytest.raises(HilError, match=message) as caught:
        ResultsFile(path, SETTINGS, resume=True)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not a results file of hil defects"),
        ('{"units": {}}', "not a results file of hil defects"),
        ('{"run": {"segments": 3}, "units": {}}', "not a results file of hil defects"),
        ('{"run": {"segments": []}, "units": {"u1": {"failed": []}}}', "units.u1: no blocked, errors"),
    ],
)
def test_a_file_that_is_not_a_matrix_is_not_resumed(tmp_path, text, message):
    path = tmp_path / "matrix.json"
    path.write_text(text)
    with pytest.raises(HilError, match=message) as caught:
        ResultsFile(path, SETTINGS, resume=True)
    assert str(path) in str(caught.value)


def test_the_source_digest_follows_every_byte_of_the_sources_and_nothing_else(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    source = tmp_path / "pkg" / "limits.yaml"
    source.write_text("high: 4.0\n")
    profile = tmp_path / "unit.yaml"
    profile.write_text("a: 1\n")
    paths = [tmp_path / "pkg", profile]
    before = source_digest(paths)
    (tmp_path / "pkg" / "__pycache__" / "limits.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "pkg" / "notes.txt").write_text("not a source")
    assert source_digest(paths) == before
    source.write_text("high: 4.1\n")
    assert source_digest(paths) != before
    source.write_text("high: 4.0\n")
    profile.write_text("a: 2\n")
    assert source_digest(paths) != before


def test_what_a_misjudged_unit_left_is_kept_and_nothing_of_the_others(tmp_path, monkeypatch):
    units = [DefectUnit(n, Path(f"{n}.yaml"), n, ("a",)) for n in ("good", "misjudged")]

    def fake_run(unit, *, workdir, judged, **_):
        (workdir / unit.name).mkdir()
        (workdir / unit.name / "output.log").write_text(f"{unit.name}'s pytest output")
        return UnitResult(unit, judged, failed=["a"] if unit.name == "good" else [])

    monkeypatch.setattr(defects, "collect_scenarios", lambda _: [{"long": False, "measures": ["a"]}])
    monkeypatch.setattr(defects, "run_unit", fake_run)
    keep = tmp_path / "matrix-misjudged"
    results = run_all(
        units, bench=Path("b.yaml"), suites=Path("s"), long=False, only_expected=True, parallel=2,
        progress=False, keep_misjudged=keep,
    )  # fmt: skip
    assert [r.as_expected for r in results] == [True, False]
    assert sorted(p.name for p in keep.iterdir()) == ["misjudged"]
    assert (keep / "misjudged" / "output.log").read_text() == "misjudged's pytest output"


def test_a_misjudged_unit_run_again_keeps_its_earlier_result(tmp_path):
    path = tmp_path / "matrix.json"
    units = [DefectUnit(n, Path(f"{n}.yaml"), n, ("a",)) for n in ("steady", "disturbed")]
    first = ResultsFile(path, SETTINGS, resume=False)
    first.begin_segment(3)
    first.record(UnitResult(units[0], ("a",), failed=["a"]))
    first.record(UnitResult(units[1], ("a",), failed=["a"], errors=["t: failed: a starved thread"]))
    first.end_segment(interrupted=False)
    again = ResultsFile(path, SETTINGS, resume=True)
    assert [r.unit.name for r in again.kept(units)] == ["steady", "disturbed"]
    assert [r.unit.name for r in again.kept(units, misjudged=False)] == ["steady"]
    again.begin_segment(1)
    again.record(UnitResult(units[1], ("a",), failed=["a"]))
    again.end_segment(interrupted=False)
    held = json.loads(path.read_text())["units"]["disturbed"]
    assert held["errors"] == [] and "earlier" not in held["earlier"][0]
    assert [e["errors"] for e in held["earlier"]] == [["t: failed: a starved thread"]]
    assert [r.as_expected for r in ResultsFile(path, SETTINGS, resume=True).kept(units)] == [True, True]


def test_a_misjudged_unit_says_why_on_its_progress_line(tmp_path, monkeypatch, capsys):
    units = [DefectUnit(n, Path(f"{n}.yaml"), n, ("a", "b")) for n in ("extra", "missed", "errored", "good")]
    long_error = "test_inv02: failed: WaitTimeout: DC link at 455 V " + "x" * 400
    outcomes = {
        "extra": UnitResult(units[0], failed=["a", "b", "c"]),
        "missed": UnitResult(units[1], failed=["a"]),
        "errored": UnitResult(units[2], failed=["a", "b"], errors=[long_error, "second"]),
        "good": UnitResult(units[3], failed=["a", "b"]),
    }

    def fake_run(unit, *, workdir, judged, **_):
        (workdir / unit.name).mkdir()
        return outcomes[unit.name]

    monkeypatch.setattr(defects, "collect_scenarios", lambda _: [{"long": False, "measures": ["a", "b"]}])
    monkeypatch.setattr(defects, "run_unit", fake_run)
    run_all(units, bench=Path("b.yaml"), suites=Path("s"), long=False, only_expected=False, parallel=1)
    lines = {line.split(":")[1].strip(): line for line in capsys.readouterr().out.splitlines()}
    assert "NOT as expected: failed also c (" in lines["extra"]
    assert "NOT as expected: did not fail b (" in lines["missed"]
    errored = lines["errored"]
    assert "NOT as expected: error: test_inv02: failed: WaitTimeout: DC link at 455 V x" in errored
    assert "x" * 400 not in errored and "... (and 1 more) (" in errored
    assert lines["good"].startswith("hil defects: good: as expected (")
