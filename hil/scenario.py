"""One decorator that makes a test a catalogue scenario: its id as the Allure story, its feature and
severity, the measurements it records, and the run sets it belongs to.

    @scenario("INV-01", "DC-bus over-voltage trip", feature="Protections", severity="critical",
              measures=["inv.dc_overvoltage.trip_voltage_v", ...], eol=True)
    def test_inv01_dc_overvoltage_trip(drive, measure): ...

Run sets (markers): ``nightly`` is every scenario that is not ``long``; ``eol`` is the certification
subset, what a shipping unit must pass; ``long`` runs only when asked (``--long``). ``measures`` is a
promise the measure fixture holds the scenario to: recording a measurement it did not declare is an
error, so a defect unit's expected failures can always be traced to the scenarios that judge them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import allure
import pytest

F = TypeVar("F", bound=Callable[..., Any])

SCENARIO_ID = re.compile(r"^(INV|TX|BMS|DIAG)-\d{2}[a-z]?$")
SEVERITIES = {level.value: level for level in allure.severity_level}


def scenario(
    scenario_id: str,
    title: str,
    *,
    feature: str,
    measures: Sequence[str],
    severity: str = "normal",
    eol: bool = False,
    long: bool = False,
) -> Callable[[F], F]:
    if not SCENARIO_ID.match(scenario_id):
        raise ValueError(f"scenario id {scenario_id!r} is not a catalogue id such as INV-01 or BMS-07")
    if severity not in SEVERITIES:
        raise ValueError(f"scenario {scenario_id}: severity {severity!r} is not one of {sorted(SEVERITIES)}")
    if not measures:
        raise ValueError(f"scenario {scenario_id}: declare the measurements it records (measures=[...])")
    if eol and long:
        raise ValueError(f"scenario {scenario_id}: a long scenario cannot be in the eol subset")

    def decorate(test: F) -> F:
        token = scenario_id.replace("-", "").lower()
        if token not in test.__name__:
            raise ValueError(f"{test.__name__}: a scenario's test name carries its id ({token})")
        marked: Any = pytest.mark.scenario(id=scenario_id, title=title, measures=tuple(measures))(test)
        if eol:
            marked = pytest.mark.eol(marked)
        if long:
            marked = pytest.mark.long(marked)
        marked = allure.story(scenario_id)(marked)
        marked = allure.feature(feature)(marked)
        marked = allure.title(f"{scenario_id} {title}")(marked)
        return allure.severity(SEVERITIES[severity])(marked)

    return decorate
