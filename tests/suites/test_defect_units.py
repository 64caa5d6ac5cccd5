"""Every defect unit fails, in the nightly scenarios that judge its expected failures, exactly those
measurements: CI's share of ``hil defects`` (the whole matrix runs every scenario for every unit,
too long for CI; ``hil defects`` does it, its wall time is in the README). A unit misjudged beside
the other benches is run again alone (a few at most: a test counts them).

``hil certify`` FAILing defect units is ``tests/results/test_certify.py``'s (a sample in CI) and
``hil defects --certify``'s (every unit, its figure in the README).

Coverage: every measurement a spec holds (the bench's own readiness aside) is recorded by a
scenario and failed by at least one defect unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.defects import collect_scenarios, load_units, run_all
from hil.specs import load_specs

pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
UNITS = load_units(ROOT / "sim" / "profiles" / "defects")
DUT_MEASUREMENTS = sorted(n for n in load_specs(ROOT / "specs") if not n.startswith("bench."))
SCENARIOS = collect_scenarios(ROOT / "test_suites")


# A simulated bench runs its scenarios in real time, and with its pytest it takes 0.3 to 0.7 of a core,
# more while a capture is judged: the check is bound by the scenarios' physics (about 1300 s of it
# summed over the units), not by the processor, up to three benches on two cores. Three side by side
# judged all 81 units as expected in 598 s (`hil defects --only-expected --parallel 3`); two take
# about 840 s. A unit misjudged beside the others runs again alone and that run is judged; more than
# a few reruns is no longer the machine's load
BENCHES = 3
MOST_RERUNS = 4
RERUN: list[str] = []


@pytest.fixture(scope="module")
def outcomes():
    """``hil defects``' result per unit (its judging scenarios only), misjudged ones run again alone."""

    def judge(units, parallel: int):
        if not units:
            return {}
        results = run_all(
            units,
            bench=ROOT / "benches" / "sim.yaml",
            suites=ROOT / "test_suites",
            long=False,
            only_expected=True,
            parallel=parallel,
            progress=False,
        )
        return {r.unit.name: r for r in results}

    judged = judge(UNITS, BENCHES)
    again = [r.unit for r in judged.values() if not r.as_expected]
    judged.update(judge(again, 1))
    RERUN.extend(u.name for u in again)
    return judged


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


@pytest.mark.slow
def test_few_units_needed_a_run_alone(outcomes):
    assert len(RERUN) <= MOST_RERUNS, f"misjudged beside the other benches, judged alone: {RERUN}"


def test_every_measurement_is_recorded_by_a_scenario_and_failed_by_a_defect_unit():
    recorded = {m for s in SCENARIOS for m in s["measures"]}
    failed_by_some_unit = {m for u in UNITS for m in u.expected}
    assert not set(DUT_MEASUREMENTS) - recorded, "specs no scenario records"
    assert not set(DUT_MEASUREMENTS) - failed_by_some_unit, "measurements no defect unit fails"
    unknown = sorted(failed_by_some_unit - set(DUT_MEASUREMENTS))
    assert not unknown, f"defect units expect measurements specs/ does not hold: {unknown}"
