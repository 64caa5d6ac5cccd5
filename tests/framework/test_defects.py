"""``hil defects``' bookkeeping: units and their expectations, what counts as failed, as blocked,
as an error, and the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.defects import DefectUnit, UnitResult, blocked_at, failed_measurements, load_units, table
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
