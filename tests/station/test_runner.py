"""The station's runner reading what ``hil certify`` says: the run it opened, and a safe state that did
not finish (which the panel must never call safe)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hil.station.runner import Attempt, Runner

SAID = [
    "hil certify: EDS200-2026-0001 attempt 3 (run 17 in sqlite:///results/hil.sqlite)",
    "    | hil.errors.SafeStateError: safe state incomplete: supply: slew: no reply within 2000 ms",
    "hil certify: EDS200-2026-0001 attempt 3: NO VERDICT (error)",
]


def _said(lines: list[str]) -> Attempt:
    script = "import sys; sys.stdout.write(sys.argv[1])"
    process = subprocess.Popen(
        [sys.executable, "-c", script, "\n".join(lines) + "\n"], stdout=subprocess.PIPE, text=True
    )
    attempt = Attempt("EDS200-2026-0001", "Li Wei", None, process)
    runner = Runner(Path("benches/sim.yaml"), "sqlite:///unused", Path("certificates"), Path())
    runner._follow(attempt)
    return attempt


def test_the_run_and_an_unfinished_safe_state_are_read_from_what_certify_says() -> None:
    attempt = _said(SAID)
    assert (attempt.attempt, attempt.run_id) == (3, 17)
    assert attempt.safe_state_error == "safe state incomplete: supply: slew: no reply within 2000 ms"
    assert attempt.exit_code == 0 and list(attempt.log) == SAID


def test_a_run_whose_safe_state_finished_has_no_safe_state_error() -> None:
    attempt = _said([SAID[0], "hil certify: EDS200-2026-0001 attempt 3: NO VERDICT (aborted)"])
    assert attempt.safe_state_error is None and attempt.run_id == 17
