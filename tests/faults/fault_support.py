"""What the fault tests check on a bench: energise it, read an error's Allure category, and see
that every instrument but the faulty one ended in its safe state on the wire."""

from __future__ import annotations

import re
from pathlib import Path

from allure_commons.utils import format_exception

from hil.bench import Bench
from hil.faults import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]

# what the bench's safe state leaves on each instrument's wire, last
OFF = {"dyno": "Q1", "eload": "LOAD OFF", "supply": "OUTP OFF", "cellsim": "OUTP OFF,(@1:24)"}


def energise(bench: Bench) -> int:
    """Supply on at 100 V, the cells at 3.3 V, the dyno turning slowly; the command log's length."""
    bench.supply.set_voltage(100.0)
    bench.supply.output_on()
    bench.cellsim.set_cell_voltages([3.3] * 24)
    bench.cellsim.output_on()
    bench.dyno.set_speed(100.0)
    # a query answered means every write before it on that line was taken: a fault armed next counts
    # from here, not from writes still in flight (the dyno's ALL1 would clear an alarm set early)
    bench.supply.measure_voltage()
    bench.cellsim.outputs_enabled()
    bench.dyno.read()
    return len(bench.service.command_log())


def category_of(exc: BaseException) -> list[str]:
    """The Allure categories the result of a test that raised ``exc`` falls in (allure-pytest's
    status message through categories.json's rules)."""
    message = format_exception(type(exc), exc)
    status = "failed" if isinstance(exc, AssertionError) else "broken"
    return [
        c["name"]
        for c in CATEGORIES
        if status in c["matchedStatuses"] and re.fullmatch(c["messageRegex"], message)
    ]


def safe_state_tail(bench: Bench, since: int) -> dict[str, list[str]]:
    """Each instrument's commands after record ``since`` of the command log."""
    tail: dict[str, list[str]] = {}
    for record in bench.service.command_log()[since:]:
        tail.setdefault(record["instrument"], []).append(record["command"])
    return tail


def assert_others_safe(bench: Bench, faulty: str | None, since: int) -> None:
    """The bench's safe state ran for every instrument but the faulty one, each ending off."""
    failures: list[str] = []
    try:
        bench.safe_state()
    except Exception as exc:
        failures = getattr(exc, "failures", [str(exc)])
    assert all(f.startswith(f"{faulty}:") for f in failures), failures
    tail = safe_state_tail(bench, since)
    for name, last in OFF.items():
        if name != faulty:
            assert last in tail.get(name, []), (name, tail.get(name))
