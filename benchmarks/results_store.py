"""The result store's recording overhead: one committed INSERT per measurement, into SQLite (WAL) and
into PostgreSQL (a throwaway server on loopback, when its binaries are installed); and the time the
Allure command line takes to render the nightly's report.

Reported per backend: the median time per measurement, measurements per second, the time recording
adds to a run of 1,000 measurements (with its tests' start and end rows, 10 measurements per test),
and what a session pays once to open the store and its run. The report: the median of ``--rounds``
renders of the last nightly's results (``reports/allure-results``, or ``--report-results``), without a
trend. What recording adds to a real nightly is measured in the nightly itself: its summary's
"result store:" line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hil.allure_report import ReportError, render
from hil.results.pg_server import pg_bin, throwaway_server
from hil.results.provenance import open_run
from hil.results.store import Store

ROOT = Path(__file__).resolve().parents[1]

PER_TEST = 10


def _record_run(store: Store, measurements: int) -> float:
    """Seconds to record one run of ``measurements`` measurements, PER_TEST a test."""
    run = store.start_run("adhoc")
    started = time.perf_counter()
    for first in range(0, measurements, PER_TEST):
        test = store.start_test(run, f"test_suites/x.py::test_{first}", scenario="X-01")
        for n in range(first, min(first + PER_TEST, measurements)):
            store.add_measurement(
                test, name="x.value_v", value=700.0 + n * 1e-3, unit="V", low=690.0, high=760.0,
                marginal=2.0, verdict="pass", clause="X-01", source="E",
            )  # fmt: skip
        store.end_test(test, "passed", 1.0)
    elapsed = time.perf_counter() - started
    store.end_run(run, "pass")
    return elapsed


@contextmanager
def _backends(postgresql: str | None) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="hil-store-bench-") as tmp:
        urls = {"sqlite (WAL)": f"sqlite:///{Path(tmp) / 'hil.sqlite'}"}
        if postgresql:
            yield {**urls, "postgresql": postgresql}
            return
        bindir = pg_bin()
        if bindir is None:
            print("postgresql: not measured (no server binaries; give --postgresql URL)")
            yield urls
            return
        with throwaway_server(bindir) as server:
            yield {**urls, "postgresql (loopback)": server.new_database()}


def _report_time(results: Path, rounds: int) -> None:
    tests = len(list(results.glob("*-result.json")))
    if not tests:
        print(f"report: not measured (no Allure results in {results}; run ./dev nightly first)")
        return
    times = []
    with tempfile.TemporaryDirectory(prefix="hil-report-bench-") as tmp:
        for n in range(rounds):
            started = time.perf_counter()
            try:
                render(results, Path(tmp) / str(n), history=None)
            except ReportError as exc:
                print(f"report: not measured ({exc})")
                return
            times.append(time.perf_counter() - started)
    print(
        f"report: allure generate of {tests} test results ({results}): {statistics.median(times):.1f} s "
        f"(median of {rounds}, one self-contained HTML file)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks results_store")
    parser.add_argument("--measurements", type=int, default=1000, help="measurements per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgresql", default=None, metavar="URL", help="a server to measure instead")
    parser.add_argument(
        "--report-results", type=Path, default=ROOT / "reports" / "allure-results", metavar="DIR",
        help="Allure results of a nightly to render (default: the last ./dev nightly's)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    _report_time(args.report_results, args.rounds)
    with _backends(args.postgresql) as urls:
        for name, url in urls.items():
            with Store(url) as store:
                _record_run(store, 50)  # warm-up: schema, connection pool, caches
                times = [_record_run(store, args.measurements) for _ in range(args.rounds)]
                started = time.perf_counter()
                with Store(url) as again:
                    open_run(
                        again, "nightly", bench=ROOT / "benches" / "sim.yaml", specs=ROOT / "specs", root=ROOT
                    )
                opening_s = time.perf_counter() - started
            run_s = statistics.median(times)
            per_ms = run_s / args.measurements * 1e3
            print(
                f"{name}: {per_ms:.2f} ms a measurement ({args.measurements / run_s:.0f}/s); "
                f"a run of {args.measurements} measurements: +{run_s:.2f} s "
                f"(median of {args.rounds}, tests' start and end rows included); opening the store and "
                f"a run (git revision, specs' hash, instruments): {opening_s * 1e3:.0f} ms"
            )
