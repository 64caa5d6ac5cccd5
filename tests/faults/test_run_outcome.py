"""What a run does with a fault, end to end: pytest in a process of its own on benches/sim.yaml, with
the framework's plugins as a nightly has them. A unit that stops answering UDS fails its test and
the run goes on; a supply trip latched during a test that passed ends that test as a safety abort,
the bench goes to its safe state, the remaining tests are not run and pytest exits 2. Allure files
each under its category from the categories.json the run leaves in its results."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
from pathlib import Path

import yaml
from fault_support import OFF

from hil.faults import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = """
from hil.dut.uds import DID_ECU_SERIAL_NUMBER
from sim.injection import FaultControl


def test_a_unit_that_stops_answering(bench, uds):
    with FaultControl(bench.service.control) as control:
        control.arm("dut", "silent")
    with uds(0x00) as client:
        client.read_data_by_identifier([DID_ECU_SERIAL_NUMBER])


def test_b_supply_trips_under_a_passing_test(bench, supply):
    supply.set_current_limit(10)
    supply.set_voltage(100)
    supply.output_on()
    assert supply.measure_voltage() >= 0
    with FaultControl(bench.service.control) as control:
        control.arm("supply", "trip")


def test_c_after_the_abort(bench, supply):
    supply.measure_voltage()


def test_d_after_the_abort():
    pass
"""


def _results(alluredir: Path) -> dict[str, dict]:
    found = {}
    for path in alluredir.glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        found[result["name"]] = result
    return found


def _categories(alluredir: Path, result: dict) -> list[str]:
    """The categories Allure files ``result`` under, by the rules the run wrote."""
    rules = json.loads((alluredir / "categories.json").read_text(encoding="utf-8"))
    message = result.get("statusDetails", {}).get("message", "")
    return [
        rule["name"]
        for rule in rules
        if result["status"] in rule["matchedStatuses"] and re.fullmatch(rule["messageRegex"], message)
    ]


def test_supply_trip_stops_the_run_and_a_silent_unit_does_not(tmp_path):
    scenarios = tmp_path / "test_faulty_run.py"
    scenarios.write_text(SCENARIOS, encoding="utf-8")
    alluredir, sim_log = tmp_path / "allure-results", tmp_path / "commands.jsonl"
    # the scenario file lies outside the repository: the root conftest's plugins are named instead
    plugins = runpy.run_path(str(ROOT / "conftest.py"))["pytest_plugins"]
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(scenarios), "-p", "no:cacheprovider", "-rA",
            *(f"-p{plugin}" for plugin in plugins),
            f"--bench={ROOT / 'benches' / 'sim.yaml'}", f"--alluredir={alluredir}", f"--sim-log={sim_log}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert re.search(r"Interrupted: safety abort: supply: over-voltage protection tripped", out), out
    assert "test_c_after_the_abort" not in out and "test_d_after_the_abort" not in out, out
    assert re.search(r"=+ 2 failed in ", out), out
    # the safe state ran after the trip: every instrument ends off
    log = [json.loads(line) for line in sim_log.read_text(encoding="utf-8").splitlines()]
    on = max(i for i, r in enumerate(log) if (r["instrument"], r["command"]) == ("supply", "OUTP ON"))
    after = {(r["instrument"], r["command"]) for r in log[on:]}
    assert all((name, off) in after for name, off in OFF.items()), after

    results = _results(alluredir)
    assert set(results) == {"test_a_unit_that_stops_answering", "test_b_supply_trips_under_a_passing_test"}
    silent, trip = (
        results["test_a_unit_that_stops_answering"],
        results["test_b_supply_trips_under_a_passing_test"],
    )
    assert silent["status"] == "broken", silent
    assert silent["statusDetails"]["message"].startswith(
        "hil.errors.DutCommunicationError: drive system: ECU 0x00 did not answer a UDS request"
    ), silent["statusDetails"]
    assert _categories(alluredir, silent) == ["DUT communication"]
    assert trip["status"] == "broken", trip
    assert trip["statusDetails"]["message"].startswith(
        "hil.errors.SafetyAbort: safety abort: supply: over-voltage protection tripped"
    ), trip["statusDetails"]
    assert _categories(alluredir, trip) == ["Safety abort"]


def test_the_html_report_files_failures_under_the_same_categories():
    """Allure 3's report takes its categories from allurerc.yaml (categories.json it keeps for other
    readers): the two must be the same rules."""
    config = yaml.safe_load((ROOT / "allurerc.yaml").read_text(encoding="utf-8"))
    assert config["categories"] == CATEGORIES
