"""``hil certify``: one unit, by serial number, through the eol subset (or, ``full``, every nightly
scenario) on one bench, into the result store, and its certificates under
``certificates/<serial>/<attempt>/``.

Before anything is powered: the serial must have the product's form, every instrument must be inside
its calibration date and the bench check must pass; otherwise the certification does not start. The
suites run in this process, so a certification killed at any point leaves its run (and every
measurement taken) in the store without an outcome, which the next ``Store`` opened on this host
marks aborted; no certificate is written for it, and the next certification of the serial is a new
attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hil.bench import Bench
from hil.certificate import CertificateError, write_certificates
from hil.config import BenchConfig
from hil.errors import CanOpenError, HilError
from hil.nightly import WITHOUT_HYPOTHESIS
from hil.results.provenance import open_run
from hil.results.record import record_hash
from hil.results.store import Store

EOL_MARKER = "eol"
# what a certification runs: the eol subset, a few minutes on the line; or every nightly scenario, for
# a unit that gets more than the line's test (a first article, a unit back from the field): the eol
# subset cannot see a defect only a longer scenario records
SCOPES = {"eol": "eol", "full": "nightly"}
CERTIFICATES = Path("certificates")


def past_calibration(config: BenchConfig, today: dt.date) -> str | None:
    """One line naming every instrument past its calibration date, or None."""
    past = [f"{n} {i.calibration_due}" for n, i in config.instruments.items() if i.calibration_due < today]
    if not past:
        return None
    return (
        f"{config.path}: calibration past due ({', '.join(past)}; today {today}): calibrate before certifying"
    )


def check_bench(config: BenchConfig) -> tuple[str | None, dict[str, str]]:
    """``hil bench check``: what it finds wrong with the bench on one line (or None), and each
    instrument's answer to ``*IDN?`` (the identity the record keeps)."""
    the_bench = Bench(config)
    try:
        statuses = the_bench.check()
        problems = [f"{s.name} ({s.resource}): {s.error}" for s in statuses if s.error is not None]
        try:
            the_bench.can_bus()
        except CanOpenError as exc:
            problems.append(f"can: {exc.detail}")
    finally:
        the_bench.close()
    identities = {
        s.name: f"{s.identity.manufacturer},{s.identity.model},{s.identity.serial},{s.identity.firmware}"
        for s in statuses
        if s.identity is not None
    }
    return (f"{config.path}: bench check failed: {'; '.join(problems)}" if problems else None), identities


@dataclass
class Certification:
    run_id: int
    attempt: int
    outcome: str
    record: dict[str, Any]
    failed: list[str] = field(default_factory=list)
    # scenarios of the scope that did not pass although nothing failed: a partial run, no verdict
    missing: list[str] = field(default_factory=list)
    scope_scenarios: int = 0
    certificates: list[Path] = field(default_factory=list)
    certificate_error: str | None = None

    @property
    def exit_code(self) -> int:
        if self.certificate_error is not None:
            return 2
        return {"pass": 0, "fail": 1}.get(self.outcome, 2)


def missing_scenarios(
    tests: list[dict[str, Any]], root: Path = Path(), scope: str = "eol"
) -> tuple[list[str], int]:
    """The scenarios of the scope in ``root/test_suites`` that did not pass in ``tests`` (the
    record's): not run (deselected, ``-k``), skipped, or not ended; and how many the scope holds. A
    certification passes only the whole scope."""
    from hil.defects import collect_scenarios

    scenarios = collect_scenarios(root / "test_suites")
    wanted = [s["nodeid"] for s in scenarios if (s["eol"] if scope == "eol" else not s["long"])]
    if not wanted:
        raise HilError(f"{root / 'test_suites'}: no {SCOPES[scope]} scenarios to certify with")
    passed = {t["node_id"] for t in tests if t["outcome"] == "passed"}
    return [node for node in wanted if node not in passed], len(wanted)


def run_certification(
    store: Store,
    *,
    serial: str,
    bench: Path,
    operator: str | None,
    unit_profile: str | None,
    pytest_args: list[str],
    identities: dict[str, str] | None = None,
    root: Path = Path(),
    certificates: Path = CERTIFICATES,
    scope: str = "eol",
) -> Certification:
    """Open the run, run the scope (the eol subset, or ``full``: every nightly scenario) into it, end
    it, write the certificates of a verdict.
    ``identities``: each instrument's ``*IDN?`` answer as the bench check before it got it."""
    if scope not in SCOPES:
        raise HilError(f"certification scope {scope!r}: one of {', '.join(SCOPES)}")
    run_id = open_run(
        store,
        "certification",
        bench=bench,
        specs=root / "specs",
        root=root,
        serial=serial,
        operator=operator,
        unit_profile=unit_profile,
    )
    for name, identity in (identities or {}).items():
        store.set_instrument_identity(run_id, name, identity)
    attempt = store.run_record(run_id)["run"]["attempt"]
    print(f"hil certify: {serial} attempt {attempt} (run {run_id} in {store.url})", flush=True)
    args = [
        str(root / "test_suites"),
        *(["-m", EOL_MARKER] if scope == "eol" else []),
        f"--bench={bench}",
        f"--unit-serial={serial}",
        f"--db={store.url}",
        f"--db-run={run_id}",
        "-p",
        "no:cacheprovider",
        *WITHOUT_HYPOTHESIS,
        "-v",
    ]
    if unit_profile:
        args.append(f"--unit-profile={unit_profile}")
    outcome, missing, scope_scenarios = "error", [], 0
    try:
        exit_code = pytest.main(args + pytest_args)
        outcome = {pytest.ExitCode.OK: "pass", pytest.ExitCode.TESTS_FAILED: "fail"}.get(exit_code, "error")
        if exit_code == pytest.ExitCode.INTERRUPTED:
            outcome = "aborted"
        if outcome == "pass":
            # a selection (-k, --measures) that ran part of the scope and passed it proves nothing of
            # the rest: no PASS, no certificate. A failure in any part is a FAIL all the same
            missing, scope_scenarios = missing_scenarios(store.run_record(run_id)["tests"], root, scope)
            if missing:
                outcome = "partial"
    finally:
        store.end_run(run_id, outcome)
    record = store.run_record(run_id)
    result = Certification(run_id, attempt, outcome, record, missing=missing, scope_scenarios=scope_scenarios)
    result.failed = [
        f"{m['name']} = {m['value']} {m['unit']} ({t['scenario'] or t['node_id']})"
        for t in record["tests"]
        for m in t["measurements"]
        if m["verdict"] == "fail"
    ]
    result.failed += [
        f"{t['node_id']} {t['outcome']}"
        for t in record["tests"]
        if t["outcome"] in ("failed", "error") and not any(m["verdict"] == "fail" for m in t["measurements"])
    ]
    if outcome in ("pass", "fail"):
        out_dir = certificates / serial / str(attempt)
        try:
            result.certificates = write_certificates(record, out_dir)
        except (CertificateError, OSError) as exc:
            result.certificate_error = f"{out_dir}: no certificate written: {exc}"
        for path in result.certificates:
            store.add_certificate(run_id, path)
    print(f"hil certify: record sha256 {record_hash(record)}", flush=True)
    return result
