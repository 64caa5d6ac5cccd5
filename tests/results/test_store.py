"""The result store on SQLite and PostgreSQL: the record's shape and hash, attempts, killed runs,
several writers at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hil.results.record import record_hash
from hil.results.store import Store, StoreError

WRITER = Path(__file__).parent / "writer.py"
SERIAL = "EDS200-2026-0001"
SUPPLY_IDN = "ITECH Electronics,IT6054C-800-225-P5,SIM-PS-0001,000.006.101,640.R,132.R"

RUN_KEYS = {
    "id", "kind", "attempt", "bench_file", "bench_sha256", "operator", "host", "started", "ended",
    "revision", "specs_sha256", "outcome", "complete", "unit_profile", "seed",
}  # fmt: skip
UNIT_KEYS = {"serial", "model", "part_number", "firmware", "vin"}
INSTRUMENT_KEYS = {"name", "kind", "driver", "identity", "serial", "calibration_due"}
TEST_KEYS = {"node_id", "scenario", "outcome", "attempt", "duration_s", "measurements"}
MEASUREMENT_KEYS = {
    "name", "value", "unit", "low", "high", "marginal", "verdict", "clause", "source", "taken",
}  # fmt: skip


def _measure(
    store: Store, test: int, name: str, value: float, verdict: str = "pass", **limits: float
) -> None:
    store.add_measurement(
        test,
        name=name,
        value=value,
        unit="V",
        low=limits.get("low", 720.0),
        high=limits.get("high", 740.0),
        marginal=2.0,
        verdict=verdict,
        clause="INV-01 trip 730 V ± 10 V",
        source="E",
    )


def _certification(store: Store) -> int:
    run = store.start_run(
        "certification",
        serial=SERIAL,
        bench_file="benches/sim.yaml",
        bench_sha256="ab" * 32,
        operator="Li Wei 李伟",
        revision="c0ffee",
        specs_sha256="cd" * 32,
        unit_profile="sim/profiles/golden.yaml",
        seed=1,
    )
    store.set_unit(run, model="EDS200", part_number="EDS200-IM4-01", firmware="EDS 2.4.1")
    store.add_instruments(
        run,
        [
            {"name": "supply", "kind": "supply", "driver": "itech.it6000c", "serial": "SIM-PS-0001",
             "calibration_due": "2027-06-30"},
            {"name": "dyno", "kind": "dyno", "driver": "magtrol.dsp7000", "serial": "SIM-DY-0001",
             "calibration_due": "2027-01-31"},
        ],
    )  # fmt: skip
    store.set_instrument_identity(run, "supply", SUPPLY_IDN)
    first = store.start_test(run, "test_suites/inverter/test_inv01.py::test_trip", scenario="INV-01a")
    _measure(store, first, "inv.dc_overvoltage.trip_voltage_v", 729.6)
    _measure(store, first, "inv.one_sided", 0.1 + 0.2, low=float("-inf"), high=1.0)
    store.end_test(first, "passed", 12.3)
    second = store.start_test(run, "test_suites/bms/test_bms07.py::test_precharge", scenario="BMS-07")
    _measure(store, second, "bms.precharge.time_s", float("nan"), verdict="fail")
    store.end_test(second, "failed", 2.0)
    return run


def test_record_has_the_agreed_shape_and_order(store_url: str) -> None:
    with Store(store_url) as store:
        run = _certification(store)
        store.end_run(run, "fail")
        record = store.run_record(run)
    assert set(record) == {"run", "unit", "instruments", "tests", "attachments"}
    assert set(record["run"]) == RUN_KEYS
    assert set(record["unit"]) == UNIT_KEYS
    assert all(set(i) == INSTRUMENT_KEYS for i in record["instruments"])
    assert all(set(t) == TEST_KEYS for t in record["tests"])
    assert all(set(m) == MEASUREMENT_KEYS for t in record["tests"] for m in t["measurements"])
    assert record["run"] | {"started": None, "ended": None, "host": None} == {
        "id": run, "kind": "certification", "attempt": 1, "bench_file": "benches/sim.yaml",
        "bench_sha256": "ab" * 32, "operator": "Li Wei 李伟", "host": None, "started": None, "ended": None,
        "revision": "c0ffee", "specs_sha256": "cd" * 32, "outcome": "fail", "complete": True,
        "unit_profile": "sim/profiles/golden.yaml", "seed": 1,
    }  # fmt: skip
    assert record["unit"] == {
        "serial": SERIAL, "model": "EDS200", "part_number": "EDS200-IM4-01", "firmware": "EDS 2.4.1",
        "vin": None,
    }  # fmt: skip
    assert [i["name"] for i in record["instruments"]] == ["supply", "dyno"]
    assert record["instruments"][0]["identity"] == SUPPLY_IDN
    assert record["instruments"][1]["calibration_due"] == "2027-01-31"
    assert [t["scenario"] for t in record["tests"]] == ["INV-01a", "BMS-07"]
    inv = record["tests"][0]
    assert (inv["outcome"], inv["attempt"], inv["duration_s"]) == ("passed", 1, 12.3)
    assert [m["name"] for m in inv["measurements"]] == ["inv.dc_overvoltage.trip_voltage_v", "inv.one_sided"]
    assert inv["measurements"][0]["value"] == 729.6
    # floats come back bit for bit; non-finite ones as the strings the hash's strict JSON allows
    assert inv["measurements"][1]["value"] == 0.30000000000000004
    assert inv["measurements"][1]["low"] == "-inf"
    assert record["tests"][1]["measurements"][0]["value"] == "nan"
    assert record["tests"][1]["measurements"][0]["taken"].endswith("+00:00")
    json.dumps(record, allow_nan=False)


def test_hash_is_canonical_json_and_stable_across_reopening(store_url: str) -> None:
    with Store(store_url) as store:
        run = _certification(store)
        store.end_run(run, "fail")
        first = store.run_record(run)
    with Store(store_url) as store:
        again = store.run_record(run)
    assert again == first
    assert record_hash(again) == record_hash(first)
    canonical = json.dumps(first, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert record_hash(first) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    changed = json.loads(json.dumps(first))
    changed["tests"][0]["measurements"][0]["value"] = 729.7
    assert record_hash(changed) != record_hash(first)


def test_hash_of_a_fixed_record() -> None:
    # pins the canonical form (key order, separators, non-ASCII kept as UTF-8) across implementations
    record = {"unit": {"serial": "EDS200-2026-0001"}, "run": {"operator": "李伟", "value": 0.1, "ok": True}}
    text = '{"run":{"ok":true,"operator":"李伟","value":0.1},"unit":{"serial":"EDS200-2026-0001"}}'
    assert record_hash(record) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    with pytest.raises(ValueError):
        record_hash({"value": float("nan")})


def test_every_attempt_is_kept(store_url: str) -> None:
    with Store(store_url) as store:
        first = _certification(store)
        store.end_run(first, "fail")
        second = _certification(store)
        store.end_run(second, "pass")
        other = store.start_run("certification", serial="EDS200-2026-0002")
        nightly = store.start_run("nightly", serial=SERIAL)
        assert [store.run_record(r)["run"]["attempt"] for r in (first, second, other, nightly)] == [
            1,
            2,
            1,
            None,
        ]
        history = store.unit_history(SERIAL)
        assert [(h["id"], h["attempt"], h["outcome"]) for h in history] == [
            (first, 1, "fail"), (second, 2, "pass"), (nightly, None, None),
        ]  # fmt: skip
        assert history[0]["failed"] == [
            {"test": "test_suites/bms/test_bms07.py::test_precharge", "name": "bms.precharge.time_s",
             "value": "nan", "unit": "V"},
        ]  # fmt: skip
        assert history[1]["failed"] == history[0]["failed"]  # the same defect in the same test
        assert len(store.run_record(first)["tests"]) == 2  # the first attempt's tests are still there
        units = {u["serial"]: u for u in store.units()}
        assert units[SERIAL]["attempts"] == 2 and units[SERIAL]["runs"] == 3


def test_a_rerun_test_is_a_second_attempt_beside_the_first(store_url: str) -> None:
    with Store(store_url) as store:
        run = store.start_run("adhoc")
        for outcome in ("failed", "passed"):
            test = store.start_test(run, "test_suites/a.py::test_flaky")
            store.end_test(test, outcome, 1.0)
        tests = store.run_record(run)["tests"]
    assert [(t["attempt"], t["outcome"]) for t in tests] == [(1, "failed"), (2, "passed")]


def test_certificates_and_attachments_are_kept_by_hash(store_url: str, tmp_path: Path) -> None:
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG plot")
    cert = tmp_path / "certificate.en.html"
    cert.write_text("<html>PASS</html>", encoding="utf-8")
    with Store(store_url) as store:
        run = _certification(store)
        store.add_attachment(run, plot)
        store.end_run(run, "pass")
        before = store.run_record(run)
        store.add_certificate(run, cert)
        record = store.run_record(run)
        history = store.unit_history(SERIAL)
    assert record["attachments"] == [
        {"path": str(plot), "sha256": hashlib.sha256(b"\x89PNG plot").hexdigest()}
    ]
    assert record == before  # the certificate is kept beside the record it states the hash of
    assert history[-1]["certificates"] == [str(cert)]


def test_refuses_what_it_cannot_store(store_url: str) -> None:
    with Store(store_url) as store:
        with pytest.raises(StoreError, match="run kind"):
            store.start_run("weekly")
        with pytest.raises(StoreError, match="serial"):
            store.start_run("certification")
        run = store.start_run("adhoc")
        test = store.start_test(run, "t")
        with pytest.raises(StoreError, match="verdict"):
            _measure(store, test, "x", 1.0, verdict="ok")
        with pytest.raises(StoreError, match="outcome"):
            store.end_run(run, "done")
        with pytest.raises(StoreError, match="no run"):
            store.run_record(run + 1000)


def test_a_store_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.sqlite"
    not_a_database.write_text("just text, not SQLite " * 100)
    with pytest.raises(StoreError, match=r"^cannot open the store: file is not a database$"):
        Store(str(not_a_database))
    with pytest.raises(StoreError, match=r"^cannot open the store: .*(refused|failed)"):
        Store("postgresql://hil@127.0.0.1:1/none")


def test_a_bad_url_is_one_line_naming_it() -> None:
    with pytest.raises(StoreError, match=r"^unsupported database 'mysql'"):
        Store("mysql://x/y")
    with pytest.raises(StoreError, match="needs a file"):
        Store("sqlite://")
    with pytest.raises(StoreError, match=r"no driver for postgresql\+pg8000"):
        Store("postgresql+pg8000://hil@127.0.0.1/hil")


def _writer(url: str, kind: str, serial: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, kind, serial, str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )


def test_a_killed_run_keeps_its_measurements_and_is_marked_aborted(store_url: str) -> None:
    Store(store_url).close()  # the schema exists before the writer starts
    writer = _writer(store_url, "certification", SERIAL, 0)
    assert writer.stdout is not None
    run = int(writer.stdout.readline().split()[1])
    for line in writer.stdout:
        if line == "taken 25\n":
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    with Store(store_url) as store:
        assert run in store.aborted
        record = store.run_record(run)
        assert (record["run"]["outcome"], record["run"]["complete"], record["run"]["ended"]) == (
            "aborted", False, None,
        )  # fmt: skip
        values = [m["value"] for m in record["tests"][0]["measurements"]]
        assert values[:25] == [float(n) for n in range(1, 26)]  # every one reported taken is stored
        retry = store.start_run("certification", serial=SERIAL)
        assert store.run_record(retry)["run"]["attempt"] == 2
        assert store.run_record(run)["run"]["attempt"] == 1


def test_a_live_run_is_not_taken_for_dead(store_url: str) -> None:
    with Store(store_url) as store:
        run = store.start_run("adhoc")
        with Store(store_url) as other:
            assert run not in other.aborted
        assert store.run_record(run)["run"]["outcome"] is None


@pytest.mark.parametrize("new_store", [True, False], ids=["new-store", "existing-store"])
def test_two_benches_write_at_once(store_url: str, new_store: bool) -> None:
    if not new_store:
        Store(store_url).close()
    count = 200
    writers = [_writer(store_url, "certification", f"EDS200-2026-000{n}", count) for n in (1, 2)]
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0, out
    with Store(store_url) as store:
        runs = [r for r in store.runs() if r["kind"] == "certification"]
        assert len(runs) == 2
        for run in runs:
            record = store.run_record(run["id"])
            assert record["run"]["outcome"] == "pass"
            values = [m["value"] for m in record["tests"][0]["measurements"]]
            assert values == [float(n) for n in range(1, count + 1)]


def test_the_same_run_gives_the_same_record_and_hash_on_both_databases(tmp_path: Path, request) -> None:
    postgres = request.getfixturevalue("postgres")
    records = []
    for url in (f"sqlite:///{tmp_path / 'hil.sqlite'}", postgres.new_database()):
        with Store(url) as store:
            run = _certification(store)
            test = store.start_test(run, "test_suites/x.py::test_times", scenario="X-01")
            for n, value in enumerate([1e-300, 123456.789012345, -0.0, 5e-324, float("inf")]):
                store.add_measurement(
                    test, name=f"x.{n}", value=value, unit="V", low=float("-inf"), high=float("inf"),
                    marginal=0.0, verdict="pass", clause="X", source="S",
                    taken=f"2026-12-02T06:31:0{n}.000+00:00",
                )  # fmt: skip
            store.end_test(test, "passed", 0.25)
            store.end_run(run, "pass")
            record = store.run_record(run)
        # what differs between two runs anyway: when they started and ended, when the fixture measured
        for key in ("started", "ended", "host"):
            record["run"][key] = None
        for t in record["tests"][:2]:
            for m in t["measurements"]:
                m["taken"] = None
        records.append(record)
    sqlite, postgresql = records
    assert postgresql == sqlite
    assert record_hash(postgresql) == record_hash(sqlite)
    values = [m["value"] for m in sqlite["tests"][2]["measurements"]]
    assert values == [1e-300, 123456.789012345, 0.0, 5e-324, "inf"]
    assert json.dumps(values[2]) == "0.0"


def test_the_migrations_build_exactly_the_schema_the_code_writes(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hil.results.schema import metadata

    with Store(store_url) as store, store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
