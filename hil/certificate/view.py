"""What a certificate shows, worked out once from the run record for both the HTML and the PDF.

The verdict is PASS only when the run's outcome is pass, no measurement's verdict is fail and no test
failed or errored; a marginal measurement passes. A FAIL names every failed measurement (scenario, name,
value, limits) and every failed test that has no failed measurement to name it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hil.certificate.i18n import term, words
from hil.errors import HilError

# A test outcome that fails the unit whatever its measurements say (it may have measured nothing).
_FAILED_OUTCOMES = frozenset({"failed", "error", "broken"})


class CertificateError(HilError):
    """A record a certificate cannot be made of, or a certificate set that cannot be read."""


@dataclass(frozen=True)
class Row:
    """One measurement against its limits, every cell already text."""

    name: str
    value: str
    unit: str
    low: str
    high: str
    marginal: str
    verdict_code: str
    verdict: str
    clause: str


@dataclass(frozen=True)
class ScenarioBlock:
    scenario: str
    node_id: str
    outcome_code: str
    outcome: str
    attempt: str
    duration: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class View:
    """A certificate in one language: labels (``t``) and the record's content as text."""

    lang: str
    t: dict[str, str]
    record_sha256: str
    passed: bool
    verdict: str
    failed_measurements: tuple[str, ...]
    failed_tests: tuple[str, ...]
    unit: tuple[tuple[str, str], ...]
    run: tuple[tuple[str, str], ...]
    bench: tuple[tuple[str, str], ...]
    instruments: tuple[tuple[str, ...], ...]
    tests: tuple[ScenarioBlock, ...]


def _need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict):
        raise CertificateError(f"record: {where}: not a mapping")
    if mapping.get(key) is None:
        raise CertificateError(f"record: {where}.{key}: missing")
    return mapping[key]


def _list(mapping: dict, key: str, where: str) -> list:
    value = mapping.get(key, [])
    if not isinstance(value, list):
        raise CertificateError(f"record: {where}.{key}: not a list")
    return value


def text(value: Any) -> str:
    """A record value as a certificate shows it: numbers to 6 significant digits, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return str(value)


def _clause(measurement: dict) -> str:
    clause = text(measurement.get("clause"))
    source = measurement.get("source")
    return f"{clause} [{source}]" if source else clause


def _failure(scenario: str, m: dict) -> str:
    limits = f"[{text(m.get('low'))}, {text(m.get('high'))}]"
    unit = m.get("unit") or ""
    return f"{scenario} {m['name']} = {text(m.get('value'))} {unit} {limits}".replace("  ", " ")


def build(record: dict[str, Any], record_sha256: str, lang: str) -> View:
    """The certificate's content in ``lang``; a record without what a certificate must state is refused."""
    t = words(lang)
    run = _need(record, "run", "record")
    unit = _need(record, "unit", "record")
    for key in ("attempt", "started", "kind"):
        _need(run, key, "run")
    _need(unit, "serial", "unit")
    if run.get("complete") is not True:
        raise CertificateError(
            f"record: run {run.get('id')}: not complete (outcome {run.get('outcome')}): no certificate"
        )

    failed_measurements: list[str] = []
    failed_tests: list[str] = []
    blocks: list[ScenarioBlock] = []
    for i, test in enumerate(_list(record, "tests", "record")):
        where = f"tests[{i}]"
        node_id = text(_need(test, "node_id", where))
        scenario = text(test.get("scenario") or node_id)
        outcome = _need(test, "outcome", where)
        if not isinstance(outcome, str):
            raise CertificateError(f"record: {where}.outcome: {outcome!r} is not a test outcome")
        rows = []
        for j, m in enumerate(_list(test, "measurements", where)):
            mwhere = f"{where}.measurements[{j}]"
            _need(m, "name", mwhere)
            verdict = _need(m, "verdict", mwhere)
            if verdict not in ("pass", "marginal", "fail"):
                raise CertificateError(f"record: {mwhere}.verdict: {verdict!r} is not pass, marginal or fail")
            if verdict == "fail":
                failed_measurements.append(_failure(scenario, m))
            rows.append(
                Row(
                    name=text(m["name"]),
                    value=text(m.get("value")),
                    unit=text(m.get("unit")),
                    low=text(m.get("low")),
                    high=text(m.get("high")),
                    marginal=text(m.get("marginal")),
                    verdict_code=verdict,
                    verdict=term(t, "verdict", verdict),
                    clause=_clause(m),
                )
            )
        if outcome in _FAILED_OUTCOMES and not any(row.verdict_code == "fail" for row in rows):
            failed_tests.append(f"{scenario} ({term(t, 'outcome', outcome)})")
        duration = test.get("duration_s")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)):
            raise CertificateError(f"record: {where}.duration_s: {duration!r} is not a number of seconds")
        blocks.append(
            ScenarioBlock(
                scenario=scenario,
                node_id=node_id,
                outcome_code=outcome,
                outcome=term(t, "outcome", outcome),
                attempt=text(test.get("attempt")),
                duration="—" if duration is None else f"{duration:.1f} s",
                rows=tuple(rows),
            )
        )
    passed = run.get("outcome") == "pass" and not failed_measurements and not failed_tests

    unit_rows = (
        (t["serial"], text(unit["serial"])),
        (t["model"], text(unit.get("model"))),
        (t["part_number"], text(unit.get("part_number"))),
        (t["firmware"], text(unit.get("firmware"))),
        (t["vin"], text(unit.get("vin"))),
    )
    run_rows = [
        (t["kind"], term(t, "kind", run["kind"])),
        (t["attempt"], text(run["attempt"])),
        (t["run_id"], text(run.get("id"))),
        (t["started"], text(run["started"])),
        (t["ended"], text(run.get("ended"))),
        (t["operator"], text(run.get("operator"))),
        (t["host"], text(run.get("host"))),
        (t["outcome"], term(t, "run", run.get("outcome"))),
        (t["complete"], t["yes"]),
        (t["revision"], text(run.get("revision"))),
        (t["specs_sha256"], text(run.get("specs_sha256"))),
    ]
    if run.get("unit_profile") is not None:
        run_rows += [(t["unit_profile"], text(run["unit_profile"])), (t["seed"], text(run.get("seed")))]
    bench_rows = (
        (t["bench_file"], text(run.get("bench_file"))),
        (t["bench_sha256"], text(run.get("bench_sha256"))),
    )
    instruments = []
    for i, inst in enumerate(_list(record, "instruments", "record")):
        _need(inst, "name", f"instruments[{i}]")
        keys = ("name", "kind", "driver", "identity", "serial", "calibration_due")
        instruments.append(tuple(text(inst.get(key)) for key in keys))
    return View(
        lang=lang,
        t=t,
        record_sha256=record_sha256,
        passed=passed,
        verdict=t["PASS"] if passed else t["FAIL"],
        failed_measurements=tuple(failed_measurements),
        failed_tests=tuple(failed_tests),
        unit=unit_rows,
        run=tuple(run_rows),
        bench=bench_rows,
        instruments=tuple(instruments),
        tests=tuple(blocks),
    )
