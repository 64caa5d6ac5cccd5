"""The ``hil`` command: bench checks, the nightly regression, certification, results and the defect-unit
matrix."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from hil.bench import Bench, InstrumentStatus, unverified_commands
from hil.config import BenchConfig, load_bench
from hil.errors import CanOpenError, HilError
from hil.results.store import DEFAULT_DB, Store

DEFAULT_BENCH = "benches/sim.yaml"


@click.group()
@click.version_option(package_name="hil")
def main() -> None:
    """Hardware-in-the-loop test framework for the electric drive system."""
    # CAN back-ends (pcan, kvaser ...) warn on import about optional helpers; the check says what matters
    logging.getLogger("can").setLevel(logging.ERROR)


@main.group()
def bench() -> None:
    """Inspect a bench."""


def _envelope(config: BenchConfig, name: str) -> str:
    return ", ".join(f"{q} {lim.low:g}..{lim.high:g}" for q, lim in config.limits(name).items()) or "-"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@bench.command("check")
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
def bench_check(bench_file: str) -> None:
    """Connect to every instrument and the CAN bus; print who answers.

    Exit 0 when all answer and the bench is in its safe state; 1 with one line per failing or
    energised instrument otherwise (supply output on or charged, shaft turning, load on ...); 2 on a
    bad bench file. On a lab bench, a warning line names each instrument's commands no source
    confirms (the exit code does not change).
    """
    try:
        config = load_bench(bench_file)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    today = dt.date.today()
    the_bench = Bench(config)
    try:
        statuses = the_bench.check()
        can_error = _check_can(the_bench)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        the_bench.close()
    rows = [["instrument", "driver", "identity", "serial", "calibration due", "state", "envelope"]]
    for status in statuses:
        cfg = config.instruments[status.name]
        rows.append(
            [
                status.name,
                status.driver,
                _identity(status),
                _serial(status, cfg.serial),
                f"{cfg.calibration_due}" + ("  PAST DUE" if cfg.calibration_due < today else ""),
                "-" if status.identity is None else ("ENERGISED" if status.energised else "safe"),
                _envelope(config, status.name),
            ]
        )
    click.echo(f"bench {config.name} ({config.path})")
    click.echo(_table(rows))
    click.echo(f"can: {_can_line(the_bench.can_kwargs)}: {'ok' if can_error is None else 'FAILED'}")
    failures = [s for s in statuses if s.error is not None]
    for status in failures:
        click.echo(f"FAILED {status.name} ({status.resource}): {status.error}", err=True)
    if can_error is not None:
        click.echo(f"FAILED can ({_can_line(the_bench.can_kwargs)}): {can_error}", err=True)
    for line in unverified_lines(config):
        click.echo(line, err=True)
    live = [s for s in statuses if s.energised]
    for status in live:
        click.echo(f"ENERGISED {status.name}: {status.energised}", err=True)
    if live:
        click.echo(f"the bench is not in its safe state: hil bench safe --bench {bench_file}", err=True)
    sys.exit(1 if failures or can_error or live else 0)


@bench.command("safe")
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
def bench_safe(bench_file: str) -> None:
    """Bring the bench to its safe state by hand: the sequence every run ends with, in its order
    (dyno braked and free, load off, faults out, thermistor neutral, supply down and off, cells off).

    Each instrument's step is reported as it ends. Exit 0 when every instrument reached its safe
    state, 1 otherwise, 2 on a bad bench file.
    """
    from hil.guardian import bring_to_safe_state

    config = _load_or_exit(bench_file)
    the_bench = Bench(config)
    click.echo(f"bench {config.name} ({config.path}): safe state")
    # each step is reported below, once; the safe state's own log lines would repeat them
    logging.getLogger("hil.safe_state").addHandler(logging.NullHandler())

    def report(name: str, error: str | None) -> None:
        click.echo(f"{name:<10} {'ok' if error is None else 'FAILED: ' + error}", err=error is not None)

    try:
        the_bench.start_service()
        steps = bring_to_safe_state(config, the_bench.resources, report)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        the_bench.close()
    failed = [s for s in steps if s["error"] is not None]
    click.echo("safe state incomplete" if failed else "safe state reached", err=bool(failed))
    sys.exit(1 if failed else 0)


def unverified_lines(config: BenchConfig) -> list[str]:
    """One warning line per instrument of a lab bench whose driver sends commands no source confirms."""
    return [
        f"WARNING {name} ({config.instruments[name].driver}): unverified commands {', '.join(headers)}: "
        "no manual or proven driver confirms them; check them on the instrument (instruments/README.md)"
        for name, headers in unverified_commands(config).items()
    ]


def _identity(status: InstrumentStatus) -> str:
    if status.identity is None:
        return "no answer"
    return f"{status.identity.manufacturer} {status.identity.model} fw {status.identity.firmware}"


def _serial(status: InstrumentStatus, configured: str) -> str:
    if status.identity is None:
        return configured
    if status.identity.serial != configured:
        return f"{status.identity.serial} (bench file says {configured})"
    return configured


def _can_line(kwargs: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in kwargs.items())


def _check_can(the_bench: Bench) -> str | None:
    try:
        the_bench.can_bus()
    except CanOpenError as exc:
        return exc.detail
    return None


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
@click.option("--unit-profile", default=None, help="unit profile the simulated bench holds (default: golden)")
@click.option(
    "--benches",
    type=click.IntRange(min=1),
    default=None,
    help="simulated benches run side by side (default: 2 for a simulated bench; a lab bench is one)",
)
@click.option(
    "--results", default="reports/allure-results", show_default=True, help="Allure results directory"
)
@click.option(
    "--report", default="reports/allure-report", show_default=True, help="Allure HTML report directory"
)
@click.option(
    "--db",
    default=None,
    help=f"result store the run is recorded into (default: the bench file's results.db, else {DEFAULT_DB})",
)
@click.option("--operator", default=None, help="who runs the bench (recorded with the run)")
@click.option(
    "--unit-serial",
    default=None,
    help="the serial number of the unit under test (a lab or served bench needs it; a simulated "
    "bench the run starts holds its own)",
)
@click.option("--sim-log", default=None, help="simulated bench the run starts: its command log file")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def nightly(
    bench_file: str,
    unit_profile: str | None,
    benches: int | None,
    results: str,
    report: str,
    db: str | None,
    operator: str | None,
    unit_serial: str | None,
    sim_log: str | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Run the nightly regression (test_suites/) on a bench and render the Allure report.

    Extra arguments go to pytest: ``--long`` adds the long scenarios, ``-m eol`` runs the eol subset.
    """
    from hil.nightly import run_nightly

    config = _load_or_exit(bench_file)
    if benches is None:
        benches = 2 if config.simulator is not None else 1
    elif benches > 1 and config.simulator is None:
        click.echo(f"error: {bench_file}: a lab bench is one safety domain; --benches must be 1", err=True)
        sys.exit(2)
    recording = [f"--db={store_url(db, config)}", "--run-kind=nightly"] + (
        [f"--operator={operator}"] if operator else []
    )
    recording += [f"--unit-serial={unit_serial}"] if unit_serial else []
    recording += [f"--sim-log={sim_log}"] if sim_log else []
    sys.exit(
        run_nightly(
            Path(bench_file),
            unit_profile,
            Path(results),
            Path(report),
            recording + list(pytest_args),
            benches,
        )
    )


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--serial", required=True, help="the unit's serial number (the form of specs/product.yaml)")
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
@click.option("--operator", default=None, help="who certifies (on the record and the certificate)")
@click.option("--unit-profile", default=None, help="simulated bench: the unit it holds (default: golden)")
@click.option(
    "--db", default=None, help=f"result store (default: the bench file's results.db, else {DEFAULT_DB})"
)
@click.option(
    "--certificates",
    "certificates_dir",
    type=click.Path(path_type=Path),
    default=Path("certificates"),
    show_default=True,
    help="where certificates go (<serial>/<attempt>/ under it)",
)
@click.option(
    "--full",
    is_flag=True,
    help="every nightly scenario instead of the eol subset (a first article, a unit back from the field)",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def certify(
    serial: str,
    bench_file: str,
    operator: str | None,
    unit_profile: str | None,
    db: str | None,
    certificates_dir: Path,
    full: bool,
    pytest_args: tuple[str, ...],
) -> None:
    """Certify one unit: the eol subset (--full: every nightly scenario) on the bench, recorded in
    the store, and its certificates under certificates/<serial>/<attempt>/.

    Refuses to start (exit 2, one line) on a serial of another form, an instrument past its
    calibration date or a failing bench check. Exit 0 on PASS, 1 on FAIL (naming the failed
    measurements), 2 when the run could not reach a verdict. Extra arguments go to pytest: a
    selection (-k, --measures) can FAIL a unit, never PASS it (the whole scope must pass).
    """
    from hil.certify import SCOPES, check_bench, past_calibration, run_certification
    from hil.product import load_product

    try:
        load_product("specs").check_serial(serial)
    except HilError as exc:
        click.echo(f"error: --serial: {exc}", err=True)
        sys.exit(2)
    scope = "full" if full else "eol"
    config = _load_or_exit(bench_file)
    refusal = past_calibration(config, dt.date.today())
    identities: dict[str, str] = {}
    if refusal is None:
        try:
            refusal, identities = check_bench(config)
        except HilError as exc:
            refusal = str(exc)
    if refusal is not None:
        click.echo(f"error: {refusal}", err=True)
        sys.exit(2)
    store = _open_store_or_exit(store_url(db, config))
    with store:
        result = run_certification(
            store,
            serial=serial,
            bench=Path(bench_file),
            operator=operator,
            unit_profile=unit_profile,
            pytest_args=list(pytest_args),
            identities=identities,
            certificates=certificates_dir,
            scope=scope,
        )
    verdict = {"pass": "PASS", "fail": "FAIL"}.get(result.outcome, f"NO VERDICT ({result.outcome})")
    click.echo(f"hil certify: {serial} attempt {result.attempt}: {verdict}")
    for line in result.failed:
        click.echo(f"  failed: {line}")
    if result.missing:
        kind = SCOPES[scope]
        click.echo(
            f"  {len(result.missing)} of {result.scope_scenarios} {kind} scenarios did not pass (not run or "
            f"skipped): a certification passes every {kind} scenario, not a selection of them"
        )
        for node in result.missing:
            click.echo(f"  not passed: {node}")
    for path in result.certificates:
        click.echo(f"  certificate: {path}")
    if result.certificate_error is not None:
        click.echo(f"error: {result.certificate_error}", err=True)
    sys.exit(result.exit_code)


@main.command()
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to serve on")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="port (0: any free)"
)
@click.option(
    "--db", default=None, help="result store (default: the bench file's results.db, else results/hil.sqlite)"
)
@click.option(
    "--certificates",
    "certificates_dir",
    default="certificates",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="where certificates go (<serial>/<attempt>/ under it)",
)
def station(bench_file: str, host: str, port: int, db: str | None, certificates_dir: Path) -> None:
    """The end-of-line station: a web panel that certifies one unit at a time by serial number on the
    bench (``hil certify`` underneath), live from the result store, with Stop one click away.

    Serves on 127.0.0.1 unless --host says otherwise; prints the address once it listens."""
    import uvicorn

    from hil.product import load_product
    from hil.station.app import Station, create_app
    from hil.station.runner import Runner

    config = _load_or_exit(bench_file)
    try:
        product = load_product("specs")
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    url = store_url(db, config)
    store = _open_store_or_exit(url)
    root = Path.cwd()
    certificates_dir = certificates_dir.resolve()
    profiles = sorted(str(p) for p in Path("sim/profiles").rglob("*.yaml")) if config.simulator else []
    runner = Runner(Path(bench_file), url, certificates_dir, root)
    app = create_app(Station(config, product, store, runner, profiles))
    try:
        listening = socket.create_server((host, port))
    except OSError as exc:
        click.echo(f"error: --host {host} --port {port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    bound = listening.getsockname()
    click.echo(f"hil station: http://{bound[0]}:{bound[1]}/ (bench {bench_file}, store {url})")
    try:
        # an open panel's event stream never ends by itself: on Ctrl-C it is cut after this grace
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        store.close()


@main.command()
@click.argument("serial", required=False)
@click.option(
    "--db", default=None, help=f"result store (default: the --bench file's results.db, else {DEFAULT_DB})"
)
@click.option("--bench", "bench_file", default=None, help="bench file whose result store to read")
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="newest runs shown")
def results(serial: str | None, db: str | None, bench_file: str | None, as_json: bool, limit: int) -> None:
    """The runs and units in the result store; with SERIAL, that unit's history: every run and
    certification attempt, its outcome, failed measurements and certificates."""
    import json

    db = store_url(db, _load_or_exit(bench_file) if bench_file else None)
    store = _open_existing_store_or_exit(db)
    with store:
        if serial is not None:
            history = store.unit_history(serial)
            if as_json:
                click.echo(json.dumps({"serial": serial, "runs": history}, indent=1, ensure_ascii=False))
            elif not history:
                click.echo(f"no runs of {serial} in {db}")
            else:
                click.echo(_history_table(serial, history))
            sys.exit(0 if history else 1)
        runs, units = store.runs(limit), store.units()
    if as_json:
        click.echo(json.dumps({"runs": runs, "units": units}, indent=1, ensure_ascii=False))
        return
    click.echo(f"runs ({db}, newest first)")
    rows = [["run", "kind", "serial", "attempt", "started", "outcome", "tests", "failed", "operator"]]
    rows += [
        [
            str(r["id"]),
            r["kind"],
            r["serial"] or "-",
            _dash(r["attempt"]),
            r["started"],
            r["outcome"] or "running",
            str(r["tests"]),
            str(r["failed_measurements"]),
            r["operator"] or "-",
        ]
        for r in runs
    ]
    click.echo(_table(rows))
    click.echo("")
    click.echo("units")
    rows = [["serial", "model", "runs", "attempts", "last run", "last outcome"]]
    rows += [
        [u["serial"], u["model"] or "-", str(u["runs"]), str(u["attempts"]), str(u["last_run"]),
         u["last_outcome"] or "running"]
        for u in units
    ]  # fmt: skip
    click.echo(_table(rows))


@main.command()
@click.argument("run", type=click.IntRange(min=1), required=False)
@click.option(
    "--db", default=None, help=f"result store (default: the --bench file's results.db, else {DEFAULT_DB})"
)
@click.option("--bench", "bench_file", default=None, help="bench file whose result store to read")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="report directory (default: reports/run-RUN)",
)
def report(run: int | None, db: str | None, bench_file: str | None, output: Path | None) -> None:
    """Render the Allure HTML report of a stored run (default: the newest) from the result store
    alone: its tests, measurements with limits and clauses, evidence files, bench, instruments and
    unit. Exit 0 when written, 2 when it cannot be (no such run, a store it cannot read, no Allure)."""
    import tempfile

    from hil.allure_report import ReportError, render
    from hil.report import write_results

    db = store_url(db, _load_or_exit(bench_file) if bench_file else None)
    with _open_existing_store_or_exit(db) as store:
        if run is None:
            newest = store.runs(limit=1)
            if not newest:
                click.echo(f"error: --db {db}: no runs recorded", err=True)
                sys.exit(2)
            run = newest[0]["id"]
        output = output or Path("reports") / f"run-{run}"
        with tempfile.TemporaryDirectory(prefix="hil-report-") as tmp:
            try:
                record = write_results(store, run, Path(tmp))
                index = render(Path(tmp), output, history=None, name=f"hil {_run_title(record, run)}")
            except (HilError, ReportError) as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)
    click.echo(f"hil report: {_run_title(record, run)}: {len(record['tests'])} tests -> {index}")


def _run_title(record: dict, run: int) -> str:
    serial = record["unit"]["serial"]
    return f"{record['run']['kind']} run {run}" + (f" of {serial}" if serial else "")


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def _history_table(serial: str, history: list[dict]) -> str:
    lines = [f"unit {serial}: {len(history)} runs"]
    rows = [["run", "kind", "attempt", "started", "outcome", "failed measurements", "certificates"]]
    for run in history:
        failed = ", ".join(f"{f['name']} = {f['value']} {f['unit']}" for f in run["failed"]) or "-"
        rows.append(
            [
                str(run["id"]),
                run["kind"],
                _dash(run["attempt"]),
                run["started"],
                (run["outcome"] or "running")
                + ("" if run["complete"] or not run["outcome"] else " (incomplete)"),
                failed,
                ", ".join(run["certificates"]) or "-",
            ]
        )
    lines.append(_table(rows))
    return "\n".join(lines)


def store_url(db: str | None, config: BenchConfig | None) -> str:
    """The store a command uses: ``--db`` if given, else the bench file's ``results.db``, else the
    default SQLite file."""
    if db is not None:
        return db
    if config is not None and config.results is not None:
        return config.results.db
    return DEFAULT_DB


def _open_existing_store_or_exit(db: str) -> Store:
    """A store to read: a SQLite file that is not there is an error, not a new empty store."""
    if "://" not in db and not Path(db).is_file():
        click.echo(f"error: --db {db}: no result store there (a run with --db writes one)", err=True)
        sys.exit(2)
    return _open_store_or_exit(db)


def _open_store_or_exit(db: str) -> Store:
    """The result store at ``db``, or one line naming it and exit 2."""
    try:
        return Store(db)
    except (HilError, SQLAlchemyError) as exc:
        click.echo(f"error: --db {db}: {exc}", err=True)
        sys.exit(2)


def _load_or_exit(bench_file: str) -> BenchConfig:
    try:
        return load_bench(bench_file)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="simulated bench file")
@click.option(
    "--profiles",
    "profiles_dir",
    default="sim/profiles/defects",
    show_default=True,
    type=click.Path(path_type=Path),
    help="directory of defect unit profiles",
)
@click.option("--unit", "units", multiple=True, help="only this defect unit (repeatable)")
@click.option("--all", "with_long", is_flag=True, help="add the long scenarios (whole drive cycles)")
@click.option(
    "--only-expected",
    is_flag=True,
    help="run, for each unit, only the scenarios that record its expected failures",
)
@click.option(
    "--certify",
    is_flag=True,
    help="certify each unit (hil certify --full, a store and certificates of its own): it must FAIL",
)
@click.option("--parallel", type=click.IntRange(min=1), default=2, show_default=True, help="benches at once")
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    help="write the results here, as each unit is judged (what a misjudged unit's run left: beside it, "
    "in <name>-misjudged/<unit>/)",
)
@click.option(
    "--resume",
    is_flag=True,
    help="keep the units the --json file holds already (same sources and options) and run the others",
)
@click.option(
    "--again-misjudged",
    is_flag=True,
    help="with --resume: run again the units the file holds as not as expected (their result is kept "
    "in the unit's 'earlier')",
)
def defects(
    bench_file: str,
    profiles_dir: Path,
    units: tuple[str, ...],
    with_long: bool,
    only_expected: bool,
    certify: bool,
    parallel: int,
    json_path: Path | None,
    resume: bool,
    again_misjudged: bool,
) -> None:
    """Run each defect unit through the nightly on its own simulated bench; print which measurement
    each one failed. Exit 0 when every unit fails exactly its expected_failures, 1 otherwise.
    --certify: each unit is certified instead, and must come out FAIL naming exactly those.
    Interrupted (Ctrl-C, SIGTERM), the units judged stay in --json; --resume goes on from there."""
    import signal
    import time

    from hil import defects as matrix
    from hil.specs import load_specs

    if resume and json_path is None:
        click.echo("error: --resume: name the results file to go on from with --json", err=True)
        sys.exit(2)
    if again_misjudged and not resume:
        click.echo(
            "error: --again-misjudged: runs again what a --resume'd file holds; add --resume", err=True
        )
        sys.exit(2)
    config = _load_or_exit(bench_file)
    if config.simulator is None:
        click.echo(
            f"error: {bench_file}: defect units live on a simulated bench (no simulator: section)", err=True
        )
        sys.exit(2)
    sources = [Path(p) for p in matrix.JUDGING_SOURCES] + [profiles_dir, Path(bench_file)]
    settings = {
        "source": matrix.source_digest(sources),
        "bench": bench_file,
        "profiles": str(profiles_dir),
        "long": with_long,
        "only_expected": only_expected,
        "certify": certify,
    }
    try:
        chosen = matrix.load_units(profiles_dir, units)
        results_file = None if json_path is None else matrix.ResultsFile(json_path, settings, resume=resume)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    kept = [] if results_file is None else results_file.kept(chosen, misjudged=not again_misjudged)
    todo = [u for u in chosen if u.name not in {r.unit.name for r in kept}]
    if kept:
        click.echo(f"hil defects: {len(kept)} units judged already in {json_path}, {len(todo)} to run")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the run as Ctrl-C does, judged units kept

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C as well, though started with SIGINT ignored (from a script's background, a test worker)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    if results_file is not None:
        results_file.begin_segment(parallel)
    try:
        fresh = (
            matrix.run_all(
                todo,
                bench=Path(bench_file),
                suites=Path("test_suites"),
                long=with_long,
                only_expected=only_expected,
                parallel=parallel,
                certify=certify,
                on_result=None if results_file is None else results_file.record,
                keep_misjudged=None
                if json_path is None
                else json_path.with_name(f"{json_path.stem}-misjudged"),
            )
            if todo
            else []
        )
    except KeyboardInterrupt:
        if results_file is not None:
            results_file.end_segment(interrupted=True)
            click.echo(
                f"hil defects: interrupted; {len(results_file.units)} units judged are in {json_path} "
                "(--resume goes on from them)",
                err=True,
            )
        sys.exit(130)
    wall = time.monotonic() - started
    by_name = {r.unit.name: r for r in [*kept, *fresh]}
    results = [by_name[u.name] for u in chosen]
    names = [n for n in load_specs("specs") if not n.startswith("bench.")]
    click.echo(matrix.table(results, names))
    for result in results:
        for error in result.errors:
            click.echo(f"ERROR {result.unit.name}: {error}", err=True)
    bad = [r.unit.name for r in results if not r.as_expected]
    summary = f"{wall:.0f} s wall with {parallel} benches at once"
    if results_file is not None:
        results_file.end_segment(interrupted=False)
        if len(results_file.segments) > 1:
            summary += (
                f" (the file's {len(results_file.segments)} runs: {results_file.wall_s:.0f} s wall in all)"
            )
    click.echo(
        f"hil defects: {len(results) - len(bad)} of {len(results)} units failed exactly their expected "
        f"measurements; {summary}"
    )
    sys.exit(1 if bad else 0)


@main.command()
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="simulated bench file")
@click.option("--count", type=click.IntRange(min=1), default=20, show_default=True, help="serials to run")
@click.option("--prefix", default="EDS200-2026-", show_default=True, help="serial number prefix")
@click.option("-m", "marker", default="eol", show_default=True, help="run set (pytest marker expression)")
@click.option("--parallel", type=click.IntRange(min=1), default=2, show_default=True, help="benches at once")
def serials(bench_file: str, count: int, prefix: str, marker: str, parallel: int) -> None:
    """Run a run set (default the eol subset) on COUNT serials of the golden unit, each on its own
    simulated bench. Exit 0 when every serial passes, 1 otherwise."""
    import time

    from hil.serials import run_serials, serial_numbers

    config = _load_or_exit(bench_file)
    if config.simulator is None:
        click.echo(
            f"error: {bench_file}: serials are drawn on a simulated bench (no simulator: section)", err=True
        )
        sys.exit(2)
    started = time.monotonic()
    try:
        results = run_serials(
            serial_numbers(prefix, count),
            bench=Path(bench_file),
            suites=Path("test_suites"),
            marker=marker,
            parallel=parallel,
        )
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    passed = sum(r.passed for r in results)
    click.echo(
        f"hil serials: {passed} of {len(results)} serials passed '{marker}' "
        f"({time.monotonic() - started:.0f} s wall with {parallel} benches at once)"
    )
    sys.exit(0 if passed == len(results) else 1)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--bench", "bench_file", default=DEFAULT_BENCH, show_default=True, help="bench file")
@click.option("--runs", type=click.IntRange(min=2), default=5, show_default=True, help="nightly runs")
@click.option(
    "--serve",
    is_flag=True,
    help="start one `hil-sim serve` for the bench file and keep it through every run (a remote "
    "simulated bench, e.g. benches/sim-remote.yaml)",
)
@click.option(
    "--benches", type=click.IntRange(min=1), default=1, show_default=True, help="benches side by side"
)
@click.option(
    "--work", default="reports/soak", show_default=True, type=click.Path(path_type=Path), help="run files"
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def soak(
    bench_file: str, runs: int, serve: bool, benches: int, work: Path, pytest_args: tuple[str, ...]
) -> None:
    """Run the nightly RUNS times back to back; report every test whose outcome differs between runs
    and any growth of threads or file descriptors in the test process and in a served bench. Exit 0
    when clean. Extra arguments go to pytest (``-m eol`` soaks the eol subset)."""
    from hil.soak import run_soak

    config = _load_or_exit(bench_file)
    if serve and config.simulator is not None:
        click.echo(
            f"error: {bench_file}: --serve is for a bench another process serves; this one starts its own "
            "simulated bench (simulator: section)",
            err=True,
        )
        sys.exit(2)
    try:
        result = run_soak(Path(bench_file), runs, work, list(pytest_args), serve=serve, benches=benches)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(result.report())
    sys.exit(0 if result.clean else 1)


def _store_record(db_url: str, run_id: int) -> dict:
    """The store's record of run ``run_id``, read the way a certificate is made (``Store.run_record``)."""
    if "://" not in db_url and not Path(db_url).is_file():
        raise HilError(f"--db {db_url}: no result store there")
    try:
        with Store(db_url) as store:
            return store.run_record(run_id)
    except (HilError, SQLAlchemyError) as exc:
        raise HilError(f"--db {db_url}: {str(exc).splitlines()[0]}") from None


def _certificate_run_id(certificate: Path) -> int | None:
    import json

    directory = certificate if certificate.is_dir() else certificate.parent
    try:
        run_id = json.loads((directory / "record.json").read_text(encoding="utf-8"))["run"]["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # verify reports the damaged record; there is no run to look up
    return run_id if isinstance(run_id, int) else None


@main.command("verify")
@click.argument("certificate", type=click.Path(exists=True, path_type=Path))
@click.option("--db", "db_url", default=None, help="result store to compare with (path or URL)")
def verify_command(certificate: Path, db_url: str | None) -> None:
    """Check a certificate (its directory or any file in it): every file against manifest.json, the record
    hash each one prints against record.json, and with --db the store's record of the run.

    Prints MATCH or MISMATCH with what differs; exit 0 on MATCH, 1 on MISMATCH, 2 when it cannot check.
    """
    from hil.certificate import verify

    try:
        run_id = _certificate_run_id(certificate) if db_url is not None else None
        # a record.json naming no run is a mismatch verify reports; there is nothing to look up
        store_record = _store_record(db_url, run_id) if db_url is not None and run_id is not None else None
        result = verify(certificate, store_record)
    except HilError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(result.report())
    sys.exit(0 if result.ok else 1)
