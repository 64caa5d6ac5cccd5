"""``hil defects`` interrupted and resumed, as a matrix of hours is run: Ctrl-C or SIGTERM keeps
the units judged in the results file, ``--resume`` judges only the others and adds its run to the
file's wall time, and a file written under other options is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# two units the eol identification scenario judges in a few seconds each
UNITS = ("serial_number_wrong", "vin_not_persisted")


def defects(results: Path, *options: str) -> list[str]:
    units = [f"--unit={name}" for name in UNITS]
    command = [sys.executable, "-m", "hil", "defects", "--only-expected", "--parallel=1", f"--json={results}"]
    return [*command, *units, *options]


def ctrl_c(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)  # the terminal's: to every process of the group


def sigterm(process: subprocess.Popen) -> None:
    process.terminate()  # to hil defects alone: it stops the unit under way itself


@pytest.mark.slow
@pytest.mark.parametrize("stop", [ctrl_c, sigterm])
def test_an_interrupted_matrix_keeps_what_it_judged_and_resumes_from_it(tmp_path, stop):
    results = tmp_path / "matrix.json"
    process = subprocess.Popen(
        defects(results), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"hil defects: {UNITS[0]}: as expected"), first
        stop(process)  # while the second unit runs
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err
    assert "--resume goes on" in err
    held = json.loads(results.read_text())
    assert list(held["units"]) == [UNITS[0]]
    assert [(s["units_judged"], s["end"]) for s in held["run"]["segments"]] == [(1, "interrupted")]

    done = subprocess.run(
        defects(results, "--resume"), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"1 units judged already in {results}, 1 to run" in done.stdout
    assert f"hil defects: {UNITS[1]}: as expected" in done.stdout
    assert f"hil defects: {UNITS[0]}:" not in done.stdout  # kept, not run again
    assert "2 of 2 units failed exactly their expected measurements" in done.stdout
    assert "(the file's 2 runs:" in done.stdout
    held = json.loads(results.read_text())
    assert sorted(held["units"]) == sorted(UNITS)
    assert all(held["units"][name]["failed"] == held["units"][name]["judged"] for name in UNITS)
    assert [(s["units_judged"], s["end"]) for s in held["run"]["segments"]] == [
        (1, "interrupted"),
        (1, "finished"),
    ]

    other = subprocess.run(
        defects(results, "--resume", "--all"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert other.returncode == 2
    assert f"{results}: run.long is False, this run's is True" in other.stderr
    assert json.loads(results.read_text()) == held


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--resume"], "--resume: name the results file"),
        (
            ["--again-misjudged", "--json=x.json"],
            "--again-misjudged: runs again what a --resume'd file holds",
        ),
    ],
)
def test_resume_wants_the_file_to_go_on_from(options, message):
    done = subprocess.run(
        [sys.executable, "-m", "hil", "defects", *options], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and message in done.stderr
