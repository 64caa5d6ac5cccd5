"""Recording a pytest run (``--db``): the run, its instruments, each test and each measurement as it
is taken, under pytest-xdist too, and nothing lost when the process is killed mid-test."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.dut.can_link import CanLink
from hil.dut.identity import read_unit_identity
from hil.product import load_product
from hil.results.store import Store

pytest_plugins = ["pytester"]

REPO = Path(__file__).parents[2]
BENCH = REPO / "benches" / "sim-inprocess.yaml"

SPEC = """
measurements:
  demo.voltage_v: {unit: V, low: 10, high: 20, marginal: 1, clause: "demo 1.1", source: E}
  demo.time_s: {unit: s, high: 1, clause: "demo 1.2", source: E}
"""

SUITE = """
import os, signal
from hil.scenario import scenario

@scenario("INV-01", "voltage", feature="F", measures=["demo.voltage_v"], eol=True)
def test_inv01_voltage(measure):
    measure("demo.voltage_v", 15.0)
    measure("demo.voltage_v", 19.5)

@scenario("INV-02", "time", feature="F", measures=["demo.time_s"])
def test_inv02_time(measure):
    measure("demo.time_s", 2.0)

def test_plain():
    pass

def test_killed(measure):
    if os.environ.get("KILL_MID_TEST"):
        measure("demo.voltage_v", 12.5)
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _suite(pytester):
    pytester.makefile(".yaml", **{"specs/demo": SPEC})
    pytester.makeconftest(
        'pytest_plugins = ["fixtures.bench", "fixtures.measure", "fixtures.record", "fixtures.suite"]'
    )
    pytester.mkdir("test_suites")
    (pytester.path / "test_suites" / "test_demo.py").write_text(SUITE)


def _run(pytester, db: str, *args):
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "test_suites", f"--bench={BENCH}", f"--db={db}", *args
    )


def test_a_run_is_recorded_with_its_bench_tests_and_measurements(pytester):
    _suite(pytester)
    db = f"sqlite:///{pytester.path / 'results' / 'hil.sqlite'}"
    result = _run(
        pytester, db, "--operator", "Li Wei", "--unit-serial", "EDS200-2026-0007", "--run-kind", "nightly"
    )
    result.assert_outcomes(passed=3, failed=1)
    with Store(db) as store:
        (run,) = store.runs()
        record = store.run_record(run["id"])
    assert record["run"]["kind"] == "nightly"
    assert record["run"]["operator"] == "Li Wei"
    assert (record["run"]["outcome"], record["run"]["complete"]) == ("fail", True)
    assert record["run"]["bench_sha256"] == hashlib.sha256(BENCH.read_bytes()).hexdigest()
    assert record["run"]["specs_sha256"] is not None and record["run"]["seed"] is not None
    assert record["unit"]["serial"] == "EDS200-2026-0007"
    assert record["instruments"][0] | {"identity": None} == {
        "name": "supply", "kind": "supply", "driver": "itech.it6000c", "identity": None,
        "serial": "SIM-PS-0001", "calibration_due": "2027-06-30",
    }  # fmt: skip
    tests = {t["node_id"].split("::")[1]: t for t in record["tests"]}
    assert {n: (t["scenario"], t["outcome"], t["attempt"]) for n, t in tests.items()} == {
        "test_inv01_voltage": ("INV-01", "passed", 1),
        "test_inv02_time": ("INV-02", "failed", 1),
        "test_plain": (None, "passed", 1),
        "test_killed": (None, "passed", 1),
    }
    assert [(m["value"], m["verdict"]) for m in tests["test_inv01_voltage"]["measurements"]] == [
        (15.0, "pass"), (19.5, "marginal"),
    ]  # fmt: skip
    failed = tests["test_inv02_time"]["measurements"][0]
    assert (failed["value"], failed["high"], failed["low"], failed["clause"]) == (
        2.0,
        1.0,
        "-inf",
        "demo 1.2",
    )


def test_xdist_workers_write_into_the_controllers_run(pytester, store_url):
    _suite(pytester)
    db = store_url
    result = _run(pytester, db, "-n", "2")
    result.assert_outcomes(passed=3, failed=1)
    with Store(db) as store:
        (run,) = store.runs()
        record = store.run_record(run["id"])
    assert (run["kind"], run["outcome"]) == ("adhoc", "fail")
    assert sorted(t["node_id"].split("::")[1] for t in record["tests"]) == [
        "test_inv01_voltage", "test_inv02_time", "test_killed", "test_plain",
    ]  # fmt: skip
    assert sum(len(t["measurements"]) for t in record["tests"]) == 3


def test_a_killed_session_keeps_what_it_measured_and_is_aborted(pytester, monkeypatch):
    _suite(pytester)
    db = f"sqlite:///{pytester.path / 'hil.sqlite'}"
    monkeypatch.setenv("KILL_MID_TEST", "1")
    result = _run(pytester, db, "-k", "killed")
    assert result.ret < 0  # killed by its signal
    with Store(db) as store:
        (run,) = store.runs()
        assert run["id"] in store.aborted
        record = store.run_record(run["id"])
    (test,) = record["tests"]
    assert test["outcome"] is None  # never ended
    assert [m["value"] for m in test["measurements"]] == [12.5]
    assert (record["run"]["outcome"], record["run"]["complete"]) == ("aborted", False)


def test_recording_into_a_run_another_process_owns(pytester):
    _suite(pytester)
    db = f"sqlite:///{pytester.path / 'hil.sqlite'}"
    with Store(db) as store:
        run = store.start_run("certification", serial="EDS200-2026-0001")
    _run(pytester, db, f"--db-run={run}", "-k", "inv01").assert_outcomes(passed=1, deselected=3)
    with Store(db) as store:
        record = store.run_record(run)
        assert record["run"]["outcome"] is None  # the owner ends it
        assert [t["scenario"] for t in record["tests"]] == ["INV-01"]
        store.end_run(run, "pass")
    result = _run(pytester, db, f"--db-run={run}")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: --db {db}: run {run} has ended (pass)"])


def test_a_store_that_cannot_be_opened_stops_the_run(pytester):
    _suite(pytester)
    result = _run(pytester, "mysql://nowhere/db")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: --db mysql://nowhere/db: unsupported database*"])


@pytest.mark.parametrize("benches", [[], ["-n", "2"]], ids=["one-bench", "two-benches"])
def test_the_unit_identity_is_read_over_uds_with_the_vin_it_leaves_with(tmp_path, benches):
    # on two benches, the other one's unit (never written to) must not overwrite the VIN end of line wrote
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_suites/diagnostics",
         "test_suites/bench", "-k", "diag06_eol or supply_regulates", "--bench=benches/sim-inprocess.yaml",
         f"--db={db}", *benches],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    product = load_product(REPO / "specs")
    with Store(db) as store:
        unit = store.run_record(store.runs()[0]["id"])["unit"]
    assert unit == {
        "serial": "EDS200-SIM-0001",
        "model": "EDS200",
        "part_number": product.identity("part_number"),
        "firmware": product.identity("software_version"),
        "vin": product.identity("eol_vin"),
    }


def test_a_unit_that_does_not_answer_costs_one_timeout():
    link = CanLink(interface="virtual", channel="hil-identity-silent", receive_own_messages=False)
    try:
        started = time.monotonic()
        identity = read_unit_identity(link.bus, link.notifier, 0x00, timeout_s=0.3)
        elapsed = time.monotonic() - started
    finally:
        link.close()
    assert identity == {"part_number": None, "firmware": None, "vin": None}
    assert elapsed < 1.0


EVIDENCE = """
import can
import numpy as np
import pytest
from hil import acquisition
from hil.dut.dbc import load_drive_dbc
from hil.dut.monitor import CanMonitor
from fixtures.dut import MONITOR
from instruments.analyzer import WaveformData

class Analyzer:
    def capture(self, traces, rate, samples):
        data = np.vstack([np.sin(np.arange(samples) / 10.0)] * len(traces)).astype(np.float32)
        return WaveformData(data, rate, 0.0, tuple(traces), ("V",) * len(traces))

@pytest.fixture
def monitor(request):
    m = CanMonitor(load_drive_dbc())
    request.config.stash[MONITOR] = m
    return m

def test_inv04_trip(monitor):
    status = monitor.db.get_message_by_name("INV_Status")
    data = status.encode({s.name: 0 for s in status.signals})
    monitor.on_message_received(can.Message(arbitration_id=status.frame_id, data=data, is_extended_id=True))
    acquisition.acquire(Analyzer(), ["U4", "I1"], 1000.0, 500)
    assert False, "trip not seen"
"""


def test_a_failing_scenarios_evidence_is_kept_by_path_and_hash(pytester):
    _suite(pytester)
    (pytester.path / "test_suites" / "test_demo.py").write_text(EVIDENCE)
    db = f"sqlite:///{pytester.path / 'results' / 'hil.sqlite'}"
    _run(pytester, db).assert_outcomes(failed=1)
    with Store(db) as store:
        record = store.run_record(store.runs()[0]["id"])
    paths = [Path(a["path"]) for a in record["attachments"]]
    assert [p.name.split("-", 2)[2] for p in paths] == [
        "can-frames-before-the-failure.txt",
        "capture-1-u4-i1.png",
    ]
    assert all(
        p.parent == pytester.path / "results" / "attachments" / f"run-{record['run']['id']}" for p in paths
    )
    for attachment, path in zip(record["attachments"], paths, strict=True):
        assert attachment["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "INV_Status" in paths[0].read_text()
    assert paths[1].read_bytes().startswith(b"\x89PNG")
