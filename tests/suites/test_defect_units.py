"""Every defect unit fails, in the nightly scenarios that judge its expected failures, exactly those
measurements: CI's share of ``hil defects`` (the whole matrix runs every scenario for every unit,
too long for CI; ``hil defects`` does it, its wall time is in the README).

Coverage: every measurement a spec holds (the bench's own readiness aside) is recorded by a
scenario and failed by at least one defect unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.defects import collect_scenarios, load_units, run_all
from hil.specs import load_specs

ROOT = Path(__file__).resolve().parents[2]
UNITS = load_units(ROOT / "sim" / "profiles" / "defects")
DUT_MEASUREMENTS = sorted(n for n in load_specs(ROOT / "specs") if not n.startswith("bench."))


# The simulated benches spend most of their wall time waiting on physical time (a bench and its
# pytest take about 0.4 of a core): four side by side keep two cores below full
BENCHES = 4


@pytest.fixture(scope="module")
def scenarios() -> list[dict]:
    return collect_scenarios(ROOT / "test_suites")


@pytest.fixture(scope="module")
def outcomes():
    results = run_all(
        UNITS,
        bench=ROOT / "benches" / "sim.yaml",
        suites=ROOT / "test_suites",
        long=False,
        only_expected=True,
        parallel=BENCHES,
        progress=False,
    )
    return {r.unit.name: r for r in results}


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the first test runs every unit (the module's fixture)
@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_a_defect_unit_fails_exactly_its_expected_measurements(outcomes, unit):
    result = outcomes[unit.name]
    assert not result.errors, result.errors
    # what the nightly's scenarios can judge of the unit (hil defects leaves the long-only out)
    judged = list(result.expected)
    assert judged, f"{unit.name}: no nightly scenario records any of {unit.expected}"
    assert sorted(result.failed) == sorted(judged), (
        f"{unit.name}: failed {result.failed}, expected {judged} "
        f"(long-only, not run here: {sorted(set(unit.expected) - set(judged))})"
    )


def test_every_measurement_is_recorded_by_a_scenario_and_failed_by_a_defect_unit(scenarios):
    recorded = {m for s in scenarios for m in s["measures"]}
    failed_by_some_unit = {m for u in UNITS for m in u.expected}
    assert not set(DUT_MEASUREMENTS) - recorded, "specs no scenario records"
    assert not set(DUT_MEASUREMENTS) - failed_by_some_unit, "measurements no defect unit fails"
    unknown = sorted(failed_by_some_unit - set(DUT_MEASUREMENTS))
    assert not unknown, f"defect units expect measurements specs/ does not hold: {unknown}"
