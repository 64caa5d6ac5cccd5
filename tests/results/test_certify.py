"""`hil certify`: refusals before anything is powered, a killed certification, verdicts and attempts."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hil.results.store import Store

# a drive scenario on a simulated bench in real time: its TSC1 stream and waits starve beside a
# second worker on two cores
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
HIL = [sys.executable, "-m", "hil"]
SERIAL = "EDS200-2026-0042"


def _certify(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*HIL, "certify", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def _bench_with(tmp_path: Path, source: str, **changes: object) -> Path:
    bench = yaml.safe_load((ROOT / source).read_text(encoding="utf-8"))
    for instrument in bench["instruments"].values():
        instrument.update(changes)
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(bench), encoding="utf-8")
    return path


@pytest.mark.parametrize("serial", ["eds200-2026-0001", "EDS200-2026-0001; rm -rf /", "../EDS200", ""])
def test_a_serial_of_another_form_is_refused_in_one_line(tmp_path, serial):
    db = tmp_path / "hil.sqlite"
    done = _certify("--serial", serial, "--db", str(db), timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        f"error: --serial: serial number {serial!r}: does not match the product's pattern "
    )
    assert not db.exists()


def test_an_instrument_past_its_calibration_date_refuses_to_start(tmp_path):
    bench = _bench_with(tmp_path, "benches/sim-inprocess.yaml")
    text = bench.read_text(encoding="utf-8").replace("2027-06-30", "2030-01-01", 6)
    bench.write_text(text.replace("2027-06-30", "2020-01-31"), encoding="utf-8")
    db = tmp_path / "hil.sqlite"
    done = _certify("--serial", SERIAL, "--bench", str(bench), "--db", str(db), timeout=60)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert re.fullmatch(
        rf"error: {bench}: calibration past due \(\w+ 2020-01-31; today .*\): calibrate .*", line
    )
    assert not db.exists()


def test_a_failing_bench_check_refuses_to_start(tmp_path):
    bench = _bench_with(tmp_path, "benches/lab-example.yaml", calibration_due="2099-01-01")
    db = tmp_path / "hil.sqlite"
    done = _certify("--serial", SERIAL, "--bench", str(bench), "--db", str(db), timeout=120)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {bench}: bench check failed: ")
    assert "cannot resolve host 'hil-prs202.lab.example'" in line and "; can: " in line
    assert not db.exists()


def _open_run(path: Path, db: str) -> dict | None:
    if not path.exists():
        return None
    with Store(db) as store:
        runs = store.runs()
        return runs[0] if runs else None


def test_a_killed_certification_keeps_its_measurements_is_aborted_and_the_next_is_a_new_attempt(tmp_path):
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"
    certificates = ROOT / "certificates" / SERIAL
    process = subprocess.Popen(
        [*HIL, "certify", "--serial", SERIAL, "--bench", "benches/sim-inprocess.yaml", "--db", db],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while (run := _open_run(tmp_path / "hil.sqlite", db)) is None or _measured(db, run["id"]) < 3:
            assert process.poll() is None, "the certification ended before it was killed"
            assert time.monotonic() < deadline, "fewer than 3 measurements within 300 s"
            time.sleep(0.2)
        taken = _measured(db, run["id"])
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with Store(db) as store:
        assert run["id"] in store.aborted
        record = store.run_record(run["id"])
        assert (record["run"]["kind"], record["run"]["attempt"]) == ("certification", 1)
        # as the bench check before the run found them
        supply_identity = record["instruments"][0]["identity"]
        assert supply_identity.startswith("ITECH Electronics,IT6054C-800-225-P5,SIM-PS-0001,")
        assert (record["run"]["outcome"], record["run"]["complete"]) == ("aborted", False)
        assert sum(len(t["measurements"]) for t in record["tests"]) >= taken
        next_attempt = store.start_run("certification", serial=SERIAL)
        assert store.run_record(next_attempt)["run"]["attempt"] == 2
        assert store.run_record(run["id"])["run"]["attempt"] == 1
    assert not (certificates / "1").exists()


def _measured(db: str, run_id: int) -> int:
    with Store(db) as store:
        return sum(len(t["measurements"]) for t in store.run_record(run_id)["tests"])


def test_a_fail_writes_the_record_and_the_certificates_of_its_attempt(tmp_path):
    """A selection of the eol subset can fail a unit: what failed, failed."""
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"
    serial = f"EDS200-2026-{9000 + os.getpid() % 1000:04d}"
    args = ["--serial", serial, "--bench", "benches/sim-inprocess.yaml", "--db", db]
    args += [
        "--unit-profile",
        "sim/profiles/defects/ov_trip_high.yaml",
        "--certificates",
        str(tmp_path / "c"),
    ]
    written = tmp_path / "c" / serial / "1"
    done = _certify(*args, "-k", "inv01a")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    assert f"hil certify: {serial} attempt 1: FAIL" in done.stdout
    assert "failed: inv.dc_overvoltage.trip_voltage_v" in done.stdout
    with Store(db) as store:
        (run,) = store.unit_history(serial)
    assert run["outcome"] == "fail"
    assert {Path(p).name for p in run["certificates"]} >= {
        "certificate.en.html", "certificate.zh.html", "certificate.en.pdf", "certificate.zh.pdf",
    }  # fmt: skip
    assert all(Path(p).is_file() and Path(p).parent == written for p in run["certificates"])
    verified = subprocess.run(
        [*HIL, "verify", str(written), "--db", db], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_selection_that_passes_is_no_pass(tmp_path):
    """-k picks one eol scenario of the golden unit: it passes, but the unit is not certified by it."""
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"
    done = _certify(
        "--serial", SERIAL, "--bench", "benches/sim-inprocess.yaml", "--db", db,
        "--certificates", str(tmp_path / "c"), "-k", "inv01a",
    )  # fmt: skip
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr
    assert f"hil certify: {SERIAL} attempt 1: NO VERDICT (partial)" in done.stdout
    assert re.search(r"  12 of 13 eol scenarios did not pass \(not run or skipped\)", done.stdout), (
        done.stdout
    )
    assert "  not passed: test_suites/bms/" in done.stdout
    with Store(db) as store:
        (run,) = store.unit_history(SERIAL)
    assert (run["outcome"], run["certificates"]) == ("partial", [])
    assert not (tmp_path / "c").exists()


def test_full_certification_fails_a_unit_the_eol_subset_cannot_see(tmp_path):
    """dm1_period_slow (a DM1 sent too seldom) fails DIAG-01 only, no eol scenario: certified --full with
    the scenarios recording its defect selected, it FAILs naming them; the eol subset holds none of
    them, so the same selection there runs nothing and reaches no verdict."""
    unit = yaml.safe_load((ROOT / "sim/profiles/defects/dm1_period_slow.yaml").read_text(encoding="utf-8"))
    expected = unit["expected_failures"]
    db = f"sqlite:///{tmp_path / 'hil.sqlite'}"
    common = [
        "--serial", SERIAL, "--bench", "benches/sim-inprocess.yaml", "--db", db,
        "--unit-profile", "sim/profiles/defects/dm1_period_slow.yaml", "--certificates", str(tmp_path / "c"),
        f"--measures={','.join(expected)}",
    ]  # fmt: skip
    eol = _certify(*common)
    assert eol.returncode == 2, eol.stdout[-3000:] + eol.stderr
    assert f"hil certify: {SERIAL} attempt 1: NO VERDICT" in eol.stdout
    full = _certify(*common, "--full")
    assert full.returncode == 1, full.stdout[-3000:] + full.stderr
    assert f"hil certify: {SERIAL} attempt 2: FAIL" in full.stdout
    assert set(re.findall(r"^  failed: (\S+)", full.stdout, flags=re.MULTILINE)) == set(expected)
    with Store(db) as store:
        first, second = store.unit_history(SERIAL)
    assert (first["outcome"], first["certificates"]) == ("error", [])
    assert second["outcome"] == "fail"
    assert {Path(p).name for p in second["certificates"]} >= {"certificate.en.pdf", "certificate.zh.pdf"}


def test_hil_defects_certify_wants_each_unit_failed_by_its_certification(tmp_path):
    """``hil defects --certify``: a real defect unit FAILs naming its defect; a unit that claims a
    defect it does not have (the golden unit) is certified without a FAIL, and the matrix says so."""
    units = tmp_path / "units"
    units.mkdir()
    shutil.copy(ROOT / "sim/profiles/defects/uds_slow_response.yaml", units)
    (units / "claims_too_much.yaml").write_text("expected_failures: [diag.uds.response_time_s]\n")
    done = subprocess.run(
        [*HIL, "defects", "--certify", "--only-expected", "--bench", "benches/sim-inprocess.yaml",
         "--profiles", str(units), "--parallel", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    assert "hil defects: uds_slow_response: as expected" in done.stdout
    assert "hil defects: claims_too_much: NOT as expected" in done.stdout
    assert re.search(r"ERROR claims_too_much: hil certify exit 2, not 1 \(FAIL\)", done.stderr), done.stderr
