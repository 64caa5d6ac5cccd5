"""Limits as data: the shipped specs load; bad ones name file and field; verdicts are exact."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hil.measurements import Measurement, Outcome
from hil.specs import Spec, SpecError, load_specs

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_specs_load_with_clause_and_source():
    specs = load_specs(ROOT / "specs")
    assert specs
    for spec in specs.values():
        assert spec.clause and spec.source in "SRE"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("x: {unit: V, low: 1, high: 0, clause: c, source: E}", "measurements.x", "above high"),
        ("x: {unit: V, clause: c, source: E}", "measurements.x", "needs a low or a high"),
        ("x: {unit: V, high: 1, clause: c, source: Q}", "measurements.x.source", "match pattern"),
        ("x: {unit: V, high: 1, source: E}", "measurements.x.clause", "required"),
        ("x: {unit: V, high: one, clause: c, source: E}", "measurements.x.high", "number"),
        ("x: {unit: V, hi: 1, clause: c, source: E}", "measurements.x.hi", "Extra inputs"),
    ],
)
def test_bad_spec_names_file_and_field(tmp_path, body, field, message):
    (tmp_path / "s.yaml").write_text("measurements:\n  " + body + "\n")
    with pytest.raises(SpecError) as caught:
        load_specs(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / 's.yaml'}: {field}: ")
    assert message in str(caught.value)


def test_duplicate_name_across_files(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("measurements:\n  x: {unit: V, high: 1, clause: c, source: E}\n")
    with pytest.raises(SpecError, match="defined twice"):
        load_specs(tmp_path)


SPEC = Spec(name="v", unit="V", low=-1.0, high=1.0, marginal=0.1, clause="c", source="E")


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (0.0, Outcome.PASS),
        (0.899, Outcome.PASS),
        (0.95, Outcome.MARGINAL),
        (-0.95, Outcome.MARGINAL),
        (1.0, Outcome.MARGINAL),
        (1.0001, Outcome.FAIL),
        (-1.5, Outcome.FAIL),
        (math.nan, Outcome.FAIL),
    ],
)
def test_verdicts(value, outcome):
    assert Measurement.judge(SPEC, value).outcome is outcome


def test_one_sided_limit():
    spec = Spec(name="t", unit="s", high=2.0, clause="c", source="E")
    assert Measurement.judge(spec, -5).outcome is Outcome.PASS
    assert Measurement.judge(spec, 2.1).outcome is Outcome.FAIL
    assert spec.limits_text() == "<= 2 s"
