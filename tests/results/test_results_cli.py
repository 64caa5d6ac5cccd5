"""`hil results`: runs and units as tables, a unit's history, JSON for scripts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hil.config import load_bench
from hil.errors import HilError
from hil.results.store import Store

ROOT = Path(__file__).resolve().parents[2]
SERIAL = "EDS200-2026-0005"


def _results(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hil", "results", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def _store(tmp_path: Path) -> str:
    db = str(tmp_path / "hil.sqlite")
    cert = tmp_path / "certificate.en.pdf"
    cert.write_bytes(b"%PDF")
    with Store(db) as store:
        first = store.start_run("certification", serial=SERIAL, operator="Li Wei")
        test = store.start_test(first, "test_suites/inverter/test_inv01.py::test_inv01a", scenario="INV-01a")
        store.add_measurement(
            test, name="inv.dc_overvoltage.trip_voltage_v", value=752.0, unit="V", low=720.0, high=740.0,
            marginal=2.0, verdict="fail", clause="INV-01", source="E",
        )  # fmt: skip
        store.end_test(test, "failed", 3.0)
        store.end_run(first, "fail")
        second = store.start_run("certification", serial=SERIAL, operator="Li Wei")
        store.end_run(second, "pass")
        store.add_certificate(second, cert)
        store.start_run("nightly", serial="EDS200-SIM-0001")
    return db


def test_runs_and_units_as_tables(tmp_path):
    done = _results("--db", _store(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split() == [
        "run",
        "kind",
        "serial",
        "attempt",
        "started",
        "outcome",
        "tests",
        "failed",
        "operator",
    ]
    assert lines[3].split()[:3] == ["3", "nightly", "EDS200-SIM-0001"]
    assert lines[3].split()[5] == "running"
    first = lines[5].split()
    assert first[:4] + first[5:6] == ["1", "certification", SERIAL, "1", "fail"]
    units = lines[lines.index("units") + 3 :]
    assert [u.split()[:4] for u in units] == [
        ["EDS200-2026-0005", "-", "2", "2"],
        ["EDS200-SIM-0001", "-", "1", "0"],
    ]


def test_a_units_history_names_failed_measurements_and_certificates(tmp_path):
    done = _results(SERIAL, "--db", _store(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"unit {SERIAL}: 2 runs"
    first, second = done.stdout.splitlines()[3:5]
    assert "fail" in first and "inv.dc_overvoltage.trip_voltage_v = 752.0 V" in first
    assert "pass" in second and str(tmp_path / "certificate.en.pdf") in second


def test_json_for_scripts(tmp_path):
    db = _store(tmp_path)
    history = json.loads(_results(SERIAL, "--json", "--db", db).stdout)
    assert [(r["attempt"], r["outcome"]) for r in history["runs"]] == [(1, "fail"), (2, "pass")]
    assert history["runs"][0]["failed"][0]["name"] == "inv.dc_overvoltage.trip_voltage_v"
    listing = json.loads(_results("--json", "--db", db).stdout)
    assert [r["id"] for r in listing["runs"]] == [3, 2, 1]


def test_an_unknown_serial_or_store_is_said_in_one_line(tmp_path):
    db = _store(tmp_path)
    done = _results("EDS200-2026-9999", "--db", db)
    assert (done.returncode, done.stdout.strip()) == (1, f"no runs of EDS200-2026-9999 in {db}")
    missing = tmp_path / "none.sqlite"
    done = _results("--db", str(missing))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: --db {missing}: no result store there (a run with --db writes one)"
    ]


def _bench_with_store(tmp_path: Path, db: str) -> Path:
    bench = yaml.safe_load((ROOT / "benches" / "sim-inprocess.yaml").read_text(encoding="utf-8"))
    bench["results"] = {"db": db}
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench), encoding="utf-8")
    return path


def test_the_nightly_records_its_run_into_the_bench_files_store(tmp_path):
    db = str(tmp_path / "hil.sqlite")
    bench = _bench_with_store(tmp_path, db)
    done = subprocess.run(
        [sys.executable, "-m", "hil", "nightly", "--bench", str(bench), "--benches", "1",
         "--operator", "Wang Fang", "--results", str(tmp_path / "allure-results"),
         "--report", str(tmp_path / "allure-report"), "-k", "test_supply_regulates_the_dc_bus"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert re.search(r"result store: recording took \d+\.\d\d s of 1 process\(es\) x \d+ s wall", done.stdout)
    with Store(db) as store:
        (run,) = store.runs()
        record = store.run_record(run["id"])
    assert (run["kind"], run["operator"], run["outcome"]) == ("nightly", "Wang Fang", "pass")
    assert [t["node_id"].rsplit("::", 1)[1] for t in record["tests"]] == ["test_supply_regulates_the_dc_bus"]
    assert record["tests"][0]["measurements"]
    listed = _results("--bench", str(bench), "--json")
    assert [r["id"] for r in json.loads(listed.stdout)["runs"]] == [run["id"]]


def test_a_bench_file_names_a_postgresql_store(tmp_path, postgres):
    url = postgres.new_database()
    with Store(url) as store:
        store.end_run(store.start_run("nightly", serial="EDS200-SIM-0001"), "pass")
    bench = _bench_with_store(tmp_path, url)
    listed = _results("--bench", str(bench), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["kind"], r["serial"]) for r in json.loads(listed.stdout)["runs"]] == [
        ("nightly", "EDS200-SIM-0001")
    ]
    # --db wins over the bench file
    other = str(tmp_path / "other.sqlite")
    with Store(other) as store:
        store.start_run("adhoc")
    listed = _results("--bench", str(bench), "--db", other, "--json")
    assert [r["kind"] for r in json.loads(listed.stdout)["runs"]] == ["adhoc"]


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("sqlite://", "a SQLite store needs a file"),
        ("", "String should have at least 1 character"),
    ],
)
def test_a_bench_files_store_is_checked_on_load(tmp_path, db, message):
    bench = _bench_with_store(tmp_path, db)
    with pytest.raises(HilError) as raised:
        load_bench(bench)
    assert str(raised.value).startswith(f"{bench}: results.db: ")
    assert message in str(raised.value)
