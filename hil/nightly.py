"""The nightly regression: the suites in ``test_suites/`` on one bench, then the Allure HTML report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from hil.allure_report import ReportError, render

# pytest exits of a run that did not start: the bench would not open (3), a refused option or usage (4)
NOT_STARTED = (3, 4)
HISTORY_FILE = "allure-history.jsonl"
# the suites use no hypothesis, and loading its pytest plugin took 1.4 s of the 3.5 s a run of them
# needed to start: paid by every defect unit, certification and xdist worker
WITHOUT_HYPOTHESIS = ("-p", "no:hypothesispytest")


def history_of(report: Path) -> Path:
    """The nightly's trend lives beside its report (``reports/allure-history.jsonl``): a report
    rendered elsewhere keeps a trend of its own."""
    return report.parent / HISTORY_FILE


def run_nightly(
    bench: Path,
    unit_profile: str | None,
    results: Path,
    report: Path,
    pytest_args: list[str],
    benches: int = 1,
) -> int:
    """Run the suites (results written as they happen), render the report; return pytest's exit code.

    ``benches`` > 1 runs that many simulated benches side by side (pytest-xdist, one bench per worker).
    """
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    command = [sys.executable, "-m", "pytest", "test_suites", f"--bench={bench}", f"--alluredir={results}"]
    command += WITHOUT_HYPOTHESIS
    if benches > 1:
        # a bench that runs out of scenarios takes pending ones from the other, so none idles at the end
        command += ["-n", str(benches), "--dist", "worksteal"]
    if unit_profile:
        command.append(f"--unit-profile={unit_profile}")
    command += pytest_args
    print("hil nightly:", " ".join(command[2:]), flush=True)
    # a child process: the suites own the signals (Ctrl-C, SIGTERM reach pytest and the safe state)
    outcome = subprocess.run(command, check=False).returncode
    if outcome in NOT_STARTED:
        # a report of a run that never started would stand over the last real one and in its trend
        print(f"hil nightly: the run could not start (exit {outcome}); no report written", flush=True)
        return outcome
    try:
        index = render(results, report, history=history_of(report))
    except ReportError as exc:
        print(f"hil nightly: {exc}", file=sys.stderr, flush=True)
    else:
        print(f"hil nightly: Allure report {index}", flush=True)
    return outcome
