"""``hil report [RUN]``: the Allure HTML report of a run rendered from the result store alone.

Each test attempt the store holds becomes an Allure result: its outcome, its measurements (one step
each, with value, limits, verdict and clause; the values are parameters kept out of the history
identity, as in the nightly's own report), and the evidence kept with it. An evidence file whose
SHA-256 is no longer the one recorded is not shown as evidence: the report says it changed. The
front page names the run, the bench and its instruments with calibration dates, the unit, the
project revision and the hash of ``specs/``, all from the store.
"""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from hil.allure_report import properties, unit_identity
from hil.results.provenance import sha256_file
from hil.results.store import Store
from hil.specs import limits_text

# the store's outcomes as Allure's statuses; a test with no outcome was cut off by the run's end
_STATUS = {"passed": "passed", "failed": "failed", "error": "broken", "skipped": "skipped"}
_STEP_STATUS = {"pass": "passed", "marginal": "passed", "fail": "failed"}


def full_name(node_id: str) -> str:
    """allure-pytest's ``fullName`` of a node id (``pkg.module#test``), so the history identity of a
    test is the same in both reports."""
    path, _, name = node_id.partition("::")
    return f"{path.removesuffix('.py').replace('/', '.')}#{name.replace('::', '.')}"


def _millis(iso: str | None) -> int | None:
    return None if iso is None else int(datetime.fromisoformat(iso).timestamp() * 1000)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _bound(value: Any, open_end: float) -> float:
    # the store keeps an open limit as null or as an infinity
    return open_end if value is None else float(value)


def measurement_line(m: dict[str, Any]) -> str:
    limits = limits_text(_bound(m["low"], -math.inf), _bound(m["high"], math.inf), m["unit"] or "")
    return (
        f"{m['name']} = {_number(m['value'])} {m['unit'] or ''} {m['verdict'].upper()} "
        f"(limits {limits}, {m['clause'] or 'no clause'} [{m['source'] or '?'}])"
    )


def environment(record: dict[str, Any], run_id: int) -> dict[str, str]:
    run, unit = record["run"], record["unit"]
    found = {
        "run": f"{run['kind']} run {run_id} ({run['outcome'] or 'no outcome'}"
        + ("" if run["complete"] else ", aborted")
        + f"), {run['started']} to {run['ended'] or '-'}",
        "operator": run["operator"] or "-",
        "host": run["host"],
        "bench": f"{run['bench_file']} (sha256 {(run['bench_sha256'] or '?')[:12]})",
        "unit.serial": unit["serial"] or "-",
        "unit.identity": unit_identity(unit),
    }
    if run["unit_profile"] or run["seed"] is not None:
        found["unit.profile"] = run["unit_profile"] or "golden"
        found["unit.seed"] = str(run["seed"])
    for i in record["instruments"]:
        identity = f"{i['driver']} {i['identity'] or ''}".rstrip()
        found[f"instrument.{i['name']}"] = (
            f"{identity} serial {i['serial']}, calibration due {i['calibration_due']}"
        )
    found["revision"] = run["revision"] or "unknown"
    found["specs.sha256"] = run["specs_sha256"] or "unknown"
    return found


def _attach(evidence: dict[str, Any], results: Path) -> dict[str, str]:
    """The evidence file copied into the results, or a note of why it cannot be shown."""
    path = Path(evidence["path"])
    now = sha256_file(path) if path.is_file() else None
    if now != evidence["sha256"]:
        why = "is missing" if now is None else f"has SHA-256 {now}"
        note = f"{path}: recorded with SHA-256 {evidence['sha256']}, now {why}; not shown as evidence\n"
        source = f"{uuid.uuid4()}-attachment.txt"
        (results / source).write_text(note, encoding="utf-8")
        return {"name": f"CHANGED SINCE RECORDED: {path.name}", "source": source, "type": "text/plain"}
    source = f"{uuid.uuid4()}-attachment{path.suffix}"
    shutil.copyfile(path, results / source)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {"name": path.name, "source": source, "type": kind}


def _result(test: dict[str, Any], evidence: dict[str, Any], run: dict[str, Any], results: Path) -> dict:
    measurements = test["measurements"]
    status = _STATUS.get(test["outcome"] or "", "broken")
    failed = [measurement_line(m) for m in measurements if m["verdict"] == "fail"]
    if failed:
        message = "measurement out of limits:\n" + "\n".join(failed)
    elif test["outcome"] is None:
        message = "no outcome: the run ended before this test did"
    else:
        message = "" if status == "passed" else f"{test['outcome']} (the store keeps no message)"
    start = _millis(evidence["started"])
    duration = test["duration_s"] if isinstance(test["duration_s"], float) else 0.0
    name = full_name(test["node_id"])
    module, _, _ = name.partition("#")
    return {
        "uuid": str(uuid.uuid4()),
        "historyId": hashlib.md5(name.encode()).hexdigest(),
        "testCaseId": hashlib.md5(name.encode()).hexdigest(),
        "fullName": name,
        "name": f"{test['scenario']} {test['node_id'].rpartition('::')[2]}"
        if test["scenario"]
        else test["node_id"].rpartition("::")[2],
        "status": status,
        "statusDetails": {"message": message} if message else {},
        "start": start,
        "stop": None if start is None else start + round(duration * 1000),
        "parameters": [
            {
                "name": m["name"],
                "value": f"{_number(m['value'])} {m['unit'] or ''}".rstrip(),
                "excluded": True,
            }
            for m in measurements
        ]
        + (
            [{"name": "attempt", "value": str(test["attempt"]), "excluded": True}]
            if test["attempt"] > 1
            else []
        ),
        "steps": [
            {
                "name": measurement_line(m),
                "status": _STEP_STATUS.get(m["verdict"], "broken"),
                "start": _millis(m["taken"]),
                "stop": _millis(m["taken"]),
            }
            for m in measurements
        ],
        "attachments": [_attach(a, results) for a in evidence["attachments"]],
        "labels": [
            {"name": "parentSuite", "value": module.rpartition(".")[0]},
            {"name": "suite", "value": module.rpartition(".")[2]},
            *([{"name": "story", "value": test["scenario"]}] if test["scenario"] else []),
            {"name": "tag", "value": run["kind"]},
            {"name": "host", "value": run["host"]},
        ],
    }


def write_results(store: Store, run_id: int, results: Path) -> dict[str, Any]:
    """The run's Allure results into ``results`` (emptied first); returns the run's record."""
    record = store.run_record(run_id)
    evidence = store.test_evidence(run_id)
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    for test in record["tests"]:
        found = evidence[(test["node_id"], test["attempt"])]
        result = _result(test, found, record["run"], results)
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
    (results / "environment.properties").write_text(properties(environment(record, run_id)), encoding="utf-8")
    executor = {"name": "hil report", "type": "hil", "buildName": f"{record['run']['kind']} run {run_id}"}
    (results / "executor.json").write_text(json.dumps(executor), encoding="utf-8")
    return record
