"""The ``hil`` command: bench checks and the nightly regression."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click

from hil.bench import Bench, InstrumentStatus
from hil.config import BenchConfig, load_bench
from hil.errors import CanOpenError, HilError

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

    Exit 0 when all answer, 1 with one line per failing instrument otherwise, 2 on a bad bench file.
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
    rows = [["instrument", "driver", "identity", "serial", "calibration due", "envelope"]]
    for status in statuses:
        cfg = config.instruments[status.name]
        rows.append(
            [
                status.name,
                status.driver,
                _identity(status),
                _serial(status, cfg.serial),
                f"{cfg.calibration_due}" + ("  PAST DUE" if cfg.calibration_due < today else ""),
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
    sys.exit(1 if failures or can_error else 0)


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
    "--results", default="reports/allure-results", show_default=True, help="Allure results directory"
)
@click.option(
    "--report", default="reports/allure-report", show_default=True, help="Allure HTML report directory"
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def nightly(
    bench_file: str, unit_profile: str | None, results: str, report: str, pytest_args: tuple[str, ...]
) -> None:
    """Run the nightly regression (test_suites/) on a bench and render the Allure report."""
    from hil.nightly import run_nightly

    sys.exit(run_nightly(Path(bench_file), unit_profile, Path(results), Path(report), list(pytest_args)))
