"""``hil defects``: every defect unit through the suites, each on its own simulated bench, and the
table of which measurement each one failed.

A defect unit is a unit profile (YAML) the simulated bench holds instead of the golden unit; its
``expected_failures`` name the measurements a correct suite must fail for it. A unit passes this
check when it fails exactly those and nothing else: a measurement it should fail but passed is a
suite without teeth, one it should not fail is a suite (or a limit) that would reject good parts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hil.errors import HilError
from hil.nightly import WITHOUT_HYPOTHESIS
from hil.yamlfile import YamlFileError, read_yaml

# A scenario that could not reach its starting state says so first: "drive_ready: BMS contactors
# closed: not reached within 6 s" (hil.strategy's waits name the state they were bringing up)
_BLOCKED_AT = re.compile(r"(?:^|\s)(powered|drive_ready|turning): ")

# what decides a unit's verdicts besides its profile and the bench file: a results file is resumed
# only by a run of the same of these
JUDGING_SOURCES = ("conftest.py", "fixtures", "hil", "instruments", "sim", "specs", "test_suites", "dbc")
_SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".dbc", ".json"}
WHY_CHARS = 240  # of a misjudged unit's first error on its progress line


@dataclass(frozen=True)
class DefectUnit:
    name: str
    path: Path
    description: str
    expected: tuple[str, ...]
    blocks: tuple[str, ...] = ()


@dataclass
class UnitResult:
    """``judged``: the expected failures the run could see (without ``--long``, those a long scenario
    alone records are not judged); None for all of them."""

    unit: DefectUnit
    judged: tuple[str, ...] | None = None
    failed: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    exit_code: int = 0

    @property
    def expected(self) -> tuple[str, ...]:
        return self.unit.expected if self.judged is None else self.judged

    @property
    def missed(self) -> list[str]:
        return [m for m in self.expected if m not in self.failed]

    @property
    def extra(self) -> list[str]:
        return [m for m in self.failed if m not in self.unit.expected]

    @property
    def as_expected(self) -> bool:
        return not self.missed and not self.extra and not self.errors

    def why_not(self) -> str:
        """Why the unit is not as expected, on one line: what it failed besides, what it did not fail,
        its first error (cut short: the results file and its output hold them whole)."""
        parts = [f"failed also {', '.join(self.extra)}"] if self.extra else []
        parts += [f"did not fail {', '.join(self.missed)}"] if self.missed else []
        if self.errors:
            first = self.errors[0] if len(self.errors[0]) <= WHY_CHARS else self.errors[0][:WHY_CHARS] + "..."
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            parts.append(f"error: {first}{more}")
        return "; ".join(parts)


def load_units(directory: Path, names: Sequence[str] = ()) -> list[DefectUnit]:
    """The defect units of ``directory`` (all, or those named), each with its expected failures."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise HilError(f"{directory}: no defect unit profiles (*.yaml)")
    units = []
    for path in paths:
        if names and path.stem not in names:
            continue
        try:
            raw = read_yaml(path) or {}
        except YamlFileError as exc:
            raise HilError(f"{path}: {exc}") from None
        expected = raw.get("expected_failures") if isinstance(raw, dict) else None
        if not isinstance(expected, list) or not expected or not all(isinstance(e, str) for e in expected):
            raise HilError(f"{path}: expected_failures: a non-empty list of measurement names")
        blocks = raw.get("blocks", [])
        if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
            raise HilError(f"{path}: blocks: a list of bench states the unit cannot reach")
        units.append(
            DefectUnit(path.stem, path, str(raw.get("description", "")), tuple(expected), tuple(blocks))
        )
    missing = sorted(set(names) - {u.name for u in units})
    if missing:
        raise HilError(f"{directory}: no defect unit named {', '.join(missing)}")
    return units


_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


def _tail(output: str) -> str:
    """The last lines of a run's output, on one line for an error message."""
    return " | ".join(output.strip().splitlines()[-5:])


def _run_stoppable(command: Sequence[str], output: Path | None) -> tuple[int, str]:
    """A unit's pytest or certification, which ``_stop_running`` can reach: its exit code and the
    tail of its output (all of it written to ``output`` if given)."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        with _running_lock:
            _running.add(process)
        try:
            out, err = process.communicate()
        finally:
            with _running_lock:
                _running.discard(process)
    if output is not None:
        output.write_text(out + err, encoding="utf-8")
    return process.returncode, _tail(out + err)


def _stop_running() -> None:
    """SIGTERM to each unit's run under way: its pytest brings its bench to the safe state and exits."""
    with _running_lock:
        for process in _running:
            process.terminate()


def run_suites(
    *, bench: Path, suites: Path, results: Path, args: Sequence[str], output: Path | None = None
) -> tuple[dict | None, int, str]:
    """The suites in a pytest of its own (so with a simulated bench of its own): the results
    document it wrote (None if it wrote none), its exit code and the tail of its output (all of
    it written to ``output`` if given)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(suites),
        f"--bench={bench}",
        f"--results-json={results}",
        "-p",
        "no:cacheprovider",
        *WITHOUT_HYPOTHESIS,
        "-q",
        *args,
    ]
    exit_code, tail = _run_stoppable(command, output)
    if not results.is_file():
        return None, exit_code, tail
    return json.loads(results.read_text(encoding="utf-8")), exit_code, tail


def certify_suites(
    unit: DefectUnit, *, bench: Path, workdir: Path, serial: str, args: Sequence[str]
) -> tuple[dict | None, int, str]:
    """``hil certify --full`` of the unit into a store of its own (certificates beside it): its
    record as a results document (None if it recorded no run), the exit code and the output's tail."""
    from hil.results.store import Store

    db = f"sqlite:///{workdir / unit.name / 'hil.sqlite'}"
    command = [
        sys.executable, "-m", "hil", "certify", "--serial", serial, "--bench", str(bench),
        "--unit-profile", str(unit.path), "--db", db, "--certificates", str(workdir / unit.name), "--full",
        *args,
    ]  # fmt: skip
    exit_code, tail = _run_stoppable(command, workdir / unit.name / "output.log")
    if not (workdir / unit.name / "hil.sqlite").is_file():
        return None, exit_code, tail
    with Store(db) as store:
        history = store.unit_history(serial)
        if not history:
            return None, exit_code, tail
        record = store.run_record(history[-1]["id"])
    tests = [
        {
            "nodeid": t["node_id"],
            "outcome": t["outcome"],
            "measurements": [{"name": m["name"], "outcome": m["verdict"]} for m in t["measurements"]],
        }
        for t in record["tests"]
    ]
    return {"tests": tests}, exit_code, tail


def collect_scenarios(suites: Path) -> list[dict]:
    """Every scenario of ``suites``, ``long`` ones too: its node id, catalogue id, what it measures
    and its markers (``--scenarios-json``)."""
    with tempfile.TemporaryDirectory(prefix="hil-scenarios-") as tmp:
        target = Path(tmp) / "scenarios.json"
        command = [sys.executable, "-m", "pytest", str(suites), "--long", "--collect-only", "-q"]
        command += ["-p", "no:cacheprovider", *WITHOUT_HYPOTHESIS, f"--scenarios-json={target}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if not target.is_file():
            tail = _tail(done.stdout + done.stderr)
            raise HilError(f"{suites}: scenarios not collected (pytest exit {done.returncode}): {tail}")
        return json.loads(target.read_text(encoding="utf-8"))["scenarios"]


def failed_measurements(document: dict) -> tuple[list[str], list[str], list[str]]:
    """(measured, failed) measurement names in first-seen order, and the tests that failed or
    errored without a failed measurement (a scenario that could not judge is not a pass), each
    with its first line."""
    measured: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    for test in document["tests"]:
        for m in test["measurements"]:
            if m["name"] not in measured:
                measured.append(m["name"])
            if m["outcome"] == "fail" and m["name"] not in failed:
                failed.append(m["name"])
        if test["outcome"] in ("failed", "error") and not any(
            m["outcome"] == "fail" for m in test["measurements"]
        ):
            errors.append(f"{test['nodeid']}: {test['outcome']}: {test.get('message') or ''}")
    return measured, failed, errors


def blocked_at(error: str) -> str | None:
    """The bench state a scenario could not reach, if that is why it stopped."""
    found = _BLOCKED_AT.search(error)
    return found.group(1) if found else None


def run_unit(
    unit: DefectUnit,
    *,
    bench: Path,
    suites: Path,
    workdir: Path,
    long: bool,
    only_expected: bool,
    extra_args: Sequence[str] = (),
    judged: tuple[str, ...] | None = None,
    certify_as: str | None = None,
) -> UnitResult:
    """The suites against one defect unit, on a simulated bench of its own; ``judged`` the
    expected failures this run can see (None: all). With ``certify_as`` (a serial) the unit is
    certified (``hil certify --full``) instead, and must come out FAIL. What the run leaves (its
    output, its Allure results or its store and certificates) is in ``workdir``/<unit>/."""
    wanted = unit.expected if judged is None else judged
    selection = [
        *(["--long"] if long else []),
        *([f"--measures={','.join(wanted)}"] if only_expected else []),
        *extra_args,
    ]
    started = time.monotonic()
    (workdir / unit.name).mkdir(parents=True, exist_ok=True)
    if certify_as is None:
        document, exit_code, tail = run_suites(
            bench=bench,
            suites=suites,
            results=workdir / unit.name / "results.json",
            args=[
                f"--unit-profile={unit.path}",
                f"--alluredir={workdir / unit.name / 'allure-results'}",
                *selection,
            ],
            output=workdir / unit.name / "output.log",
        )
    else:
        document, exit_code, tail = certify_suites(
            unit, bench=bench, workdir=workdir, serial=certify_as, args=selection
        )
    outcome = UnitResult(unit, judged, wall_s=time.monotonic() - started, exit_code=exit_code)
    if document is None:
        outcome.errors.append(f"no results (exit {exit_code}): {tail}")
        return outcome
    if certify_as is not None and exit_code != 1:
        outcome.errors.append(f"hil certify exit {exit_code}, not 1 (FAIL): {tail}")
    outcome.measured, outcome.failed, errors = failed_measurements(document)
    for error in errors:
        # a unit that cannot reach a state leaves the scenarios that need it unjudged, as it says
        (outcome.blocked if blocked_at(error) in unit.blocks else outcome.errors).append(error)
    return outcome


def run_all(
    units: Sequence[DefectUnit],
    *,
    bench: Path,
    suites: Path,
    long: bool,
    only_expected: bool,
    parallel: int,
    extra_args: Sequence[str] = (),
    progress: bool = True,
    certify: bool = False,
    on_result: Callable[[UnitResult], None] | None = None,
    keep_misjudged: Path | None = None,
) -> list[UnitResult]:
    """Each unit on a bench of its own, ``parallel`` at once; ``certify``: each certified
    (``hil certify --full``, serials EDS200-2026-9001 on), which must FAIL it. ``on_result`` is
    called, from the unit's thread, with each unit judged to its end: not with those still running
    when the run is interrupted (KeyboardInterrupt), which are stopped and left unjudged. What a
    unit judged not as expected left (``run_unit``) is copied to ``keep_misjudged``/<unit>/."""
    serials = [f"EDS200-2026-{n:04d}" for n in range(9001, 9001 + len(units))]  # the product's form
    nightly = None if long else {m for s in collect_scenarios(suites) if not s["long"] for m in s["measures"]}
    interrupted = threading.Event()
    with tempfile.TemporaryDirectory(prefix="hil-defects-") as tmp:
        workdir = Path(tmp)

        def one(unit: DefectUnit) -> UnitResult:
            judged = None if nightly is None else tuple(m for m in unit.expected if m in nightly)
            if judged == () or interrupted.is_set():
                return UnitResult(unit, judged)  # only long scenarios judge it, or stopped: nothing to run
            result = run_unit(
                unit,
                bench=bench,
                suites=suites,
                workdir=workdir,
                long=long,
                only_expected=only_expected,
                extra_args=extra_args,
                judged=judged,
                certify_as=serials[units.index(unit)] if certify else None,
            )
            if interrupted.is_set():
                return result
            kept = ""
            if keep_misjudged is not None and not result.as_expected:
                shutil.copytree(workdir / unit.name, keep_misjudged / unit.name, dirs_exist_ok=True)
                kept = f"; what it left in {keep_misjudged / unit.name}"
            if progress:
                verdict = "as expected" if result.as_expected else f"NOT as expected: {result.why_not()}"
                print(f"hil defects: {unit.name}: {verdict} ({result.wall_s:.0f} s{kept})", flush=True)
            if on_result is not None:
                on_result(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = [pool.submit(one, unit) for unit in units]
            try:
                # awake twice a second: a signal's handler runs in this thread only, once it runs
                while wait(futures, timeout=0.5).not_done:
                    pass
                return [future.result() for future in futures]
            except BaseException:
                interrupted.set()
                _stop_running()
                pool.shutdown(wait=True, cancel_futures=True)
                raise


def table(results: Sequence[UnitResult], measurements: Sequence[str]) -> str:
    """Measurement × defect unit: ``x`` failed as expected, ``MISSED`` expected but passed or not
    measured, ``EXTRA`` failed unexpectedly, ``long`` expected but judged only by a long scenario
    (not run), ``.`` measured and passed, blank not measured."""
    header = ["measurement", *[str(i) for i in range(1, len(results) + 1)]]
    rows = [header]
    for name in measurements:
        row = [name]
        for result in results:
            expected, failed = name in result.expected, name in result.failed
            if name in result.unit.expected and not expected:
                row.append("long")  # judged only by a long scenario, which this run left out
            elif expected:
                row.append("x" if failed else "MISSED")
            elif failed:
                row.append("EXTRA")
            else:
                row.append("." if name in result.measured else "")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    legend = [
        f"{i:>3} {r.unit.name}: {r.unit.description}"
        + (f" ({len(r.blocked)} scenarios blocked at {', '.join(r.unit.blocks)})" if r.blocked else "")
        for i, r in enumerate(results, 1)
    ]
    return "\n".join([*lines, "", "units:", *legend])


def source_digest(paths: Sequence[Path]) -> str:
    """A digest of the sources under ``paths`` (files, or directories walked for sources), each
    file by its path as given and its bytes."""
    digest = hashlib.sha256()
    for top in paths:
        if top.is_file():
            files = [top]
        else:
            files = sorted(
                p
                for p in top.rglob("*")
                if p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts and p.is_file()
            )
        for path in files:
            digest.update(path.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def entry(result: UnitResult) -> dict:
    """A unit's result as the results file holds it."""
    return {
        "expected": list(result.unit.expected),
        "judged": list(result.expected),
        "failed": list(result.failed),
        "measured": list(result.measured),
        "errors": list(result.errors),
        "blocked": list(result.blocked),
        "wall_s": round(result.wall_s, 1),
        "exit_code": result.exit_code,
    }


_ENTRY_KEYS = set(entry(UnitResult(DefectUnit("", Path(), "", ()))))


class ResultsFile:
    """``hil defects --json``: rewritten whole as each unit is judged, so a run interrupted after
    hours keeps what it judged. Resumed, it keeps the units it holds (a later run judges only the
    others) if it was written under the same ``settings`` (sources' digest, run options), and its
    ``run.segments`` add up the matrix's wall time over the runs that made it."""

    def __init__(self, path: Path, settings: dict, *, resume: bool) -> None:
        self.path = path
        self.settings = settings
        self.units: dict[str, dict] = {}
        self.segments: list[dict] = []
        self._segment_started = 0.0
        self._lock = threading.Lock()
        if resume and path.is_file():
            self._load()

    def _load(self) -> None:
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            run, units = dict(document["run"]), dict(document["units"])
            segments = list(run["segments"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HilError(f"{self.path}: not a results file of hil defects to resume ({exc!r})") from exc
        for name, held in units.items():
            lacking = sorted(_ENTRY_KEYS - set(held if isinstance(held, dict) else ()))
            if lacking:
                raise HilError(f"{self.path}: units.{name}: no {', '.join(lacking)}: not a file to resume")
        for key, value in self.settings.items():
            if run.get(key) != value:
                raise HilError(
                    f"{self.path}: run.{key} is {run.get(key)!r}, this run's is {value!r}: "
                    "its results judged something else (run without --resume to start over)"
                )
        self.units, self.segments = units, segments

    def kept(self, units: Sequence[DefectUnit], *, misjudged: bool = True) -> list[UnitResult]:
        """The results the file holds for ``units``, as judged when it was written; without
        ``misjudged``, those judged as expected only (the others are to run again)."""
        results = []
        for unit in units:
            held = self.units.get(unit.name)
            if held is None:
                continue
            result = UnitResult(
                unit, tuple(held["judged"]), wall_s=held["wall_s"], exit_code=held["exit_code"]
            )
            result.failed, result.measured = list(held["failed"]), list(held["measured"])
            result.errors, result.blocked = list(held["errors"]), list(held["blocked"])
            if misjudged or result.as_expected:
                results.append(result)
        return results

    def begin_segment(self, parallel: int) -> None:
        """This run's share of the matrix, kept up to date as it goes: its start, wall time so far,
        benches and units judged; ``end`` stays None until it finishes or is interrupted, so a run
        killed outright leaves its share as far as its last judged unit."""
        with self._lock:
            self._segment_started = time.monotonic()
            started = datetime.now(UTC).isoformat(timespec="seconds")
            self.segments.append(
                {"started": started, "wall_s": 0.0, "parallel": parallel, "units_judged": 0, "end": None}
            )
            self._write()

    def record(self, result: UnitResult) -> None:
        """``result`` as the unit's; a result the file held for it before is kept in its ``earlier``."""
        with self._lock:
            judged = entry(result)
            before = self.units.get(result.unit.name)
            if before is not None:
                earlier = before.pop("earlier", [])
                judged["earlier"] = [*earlier, before]
            self.units[result.unit.name] = judged
            self._update_segment(judged=1)

    def end_segment(self, *, interrupted: bool) -> None:
        with self._lock:
            self._update_segment(judged=0, end="interrupted" if interrupted else "finished")

    def _update_segment(self, judged: int, end: str | None = None) -> None:
        segment = self.segments[-1]
        segment["wall_s"] = round(time.monotonic() - self._segment_started, 1)
        segment["units_judged"] += judged
        segment["end"] = end
        self._write()

    @property
    def wall_s(self) -> float:
        return sum(segment["wall_s"] for segment in self.segments)

    def _write(self) -> None:
        document = {"run": {**self.settings, "segments": self.segments}, "units": self.units}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_name(self.path.name + ".part")
        part.write_text(json.dumps(document, indent=1), encoding="utf-8")
        os.replace(part, self.path)  # a reader, or a run killed mid-write, never sees half a file
