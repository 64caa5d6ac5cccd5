"""The defect units: each a small override of the golden unit naming what a good suite must fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.bench import Bench
from hil.errors import BenchConfigError
from hil.specs import load_specs
from sim.profile import defect_profiles, load_profile

ROOT = Path(__file__).resolve().parents[2]
SPECS = load_specs(ROOT / "specs")
GOLDEN = load_profile()


def test_at_least_eight_defect_units():
    assert len(defect_profiles()) >= 8


@pytest.mark.parametrize("path", defect_profiles(), ids=lambda p: p.stem)
def test_defect_names_real_measurements_and_changes_the_unit(path):
    unit = load_profile(path)
    assert unit.description and unit.description != path.stem
    assert unit.expected_failures, "a defect unit must say which measurements a good suite fails"
    unknown = [name for name in unit.expected_failures if name not in SPECS]
    assert not unknown, f"expected_failures not in specs/: {unknown}"
    changed = [
        f"{section}.{name}"
        for section in GOLDEN
        for name, value in GOLDEN[section].items()
        if unit[section][name] != value
    ] + [f"identity.{name}" for name, value in GOLDEN.identity.items() if unit.identity[name] != value]
    assert changed, "the defect changes no parameter"
    for name in unit.expected_failures:
        spec = SPECS[name]
        assert spec.clause and spec.source in "SRE"


def test_a_bad_unit_profile_stops_the_bench_with_one_line(tmp_path):
    profile = tmp_path / "bad.yaml"
    profile.write_text("motor:\n  stator_resistance: 15 mV\n")
    with pytest.raises(BenchConfigError) as caught:
        Bench.from_file(ROOT / "benches" / "sim.yaml", service_options={"profile": str(profile)}).open()
    message = str(caught.value)
    assert f"{profile}: motor.stator_resistance: unit 'mV' does not fit 'mohm'" in message
    assert "\n" not in message
