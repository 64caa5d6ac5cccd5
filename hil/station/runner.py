"""One certification at a time, run as ``hil certify`` in a process of its own.

The station never drives the bench: the certification process does, and it owns the bench's safe
state. Stop is Ctrl-C sent to that process (its own session, so nothing else gets it): the bench goes
to its safe state, the run is recorded aborted, and the process ends. The bench is safe once the
process has ended; a closed browser changes nothing, the process runs on.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.errors import HilError

# what ``hil certify`` prints once its run is open in the store
_RUN_OPENED = re.compile(r"^hil certify: \S+ attempt (\d+) \(run (\d+) in ")
# what the bench prints when its safe state did not finish (hil.errors.SafeStateError)
_SAFE_STATE_FAILED = re.compile(r"safe state incomplete: .*")
LOG_LINES = 200


class StationBusy(HilError):
    """A certification is running: the station runs one at a time."""


@dataclass
class Attempt:
    """One ``hil certify`` process and what it has said."""

    serial: str
    operator: str
    unit_profile: str | None
    process: subprocess.Popen[str]
    run_id: int | None = None
    attempt: int | None = None
    stop_requested: bool = False
    # the first safe state of the run that did not finish, as the process said it
    safe_state_error: str | None = None
    log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=LOG_LINES))

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()


class Runner:
    """Starts ``hil certify`` for one unit at a time on ``bench`` into the store at ``db``."""

    def __init__(self, bench: Path, db: str, certificates: Path, root: Path) -> None:
        self.bench, self.db, self.certificates, self.root = bench, db, certificates, root
        self._lock = threading.Lock()
        self.current: Attempt | None = None

    def running(self) -> bool:
        return self.current is not None and self.current.exit_code is None

    def start(self, serial: str, operator: str, unit_profile: str | None) -> Attempt:
        with self._lock:
            if self.running():
                assert self.current is not None
                raise StationBusy(
                    f"{self.current.serial} is being certified: stop it or wait for its verdict"
                )
            command = [
                sys.executable,
                "-m",
                "hil",
                "certify",
                f"--serial={serial}",
                f"--bench={self.bench}",
                f"--db={self.db}",
                f"--certificates={self.certificates}",
                f"--operator={operator}",
            ]
            if unit_profile:
                command.append(f"--unit-profile={unit_profile}")
            process = subprocess.Popen(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,  # Ctrl-C in the station's terminal is the station's, not the run's
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            attempt = Attempt(serial, operator, unit_profile, process)
            threading.Thread(target=self._follow, args=(attempt,), name="certify-output", daemon=True).start()
            self.current = attempt
            return attempt

    def _follow(self, attempt: Attempt) -> None:
        assert attempt.process.stdout is not None
        for line in attempt.process.stdout:
            line = line.rstrip("\n")
            attempt.log.append(line)
            opened = _RUN_OPENED.match(line)
            if opened is not None and attempt.run_id is None:
                attempt.attempt, attempt.run_id = int(opened.group(1)), int(opened.group(2))
            unsafe = _SAFE_STATE_FAILED.search(line)
            if unsafe is not None and attempt.safe_state_error is None:
                attempt.safe_state_error = unsafe.group(0)
        attempt.process.wait()

    def stop(self) -> bool:
        """Ctrl-C to the running certification; False if none is running."""
        with self._lock:
            attempt = self.current
            if attempt is None or attempt.exit_code is not None:
                return False
            attempt.stop_requested = True
            attempt.process.send_signal(signal.SIGINT)
            return True

    def status(self) -> dict[str, Any] | None:
        attempt = self.current
        if attempt is None:
            return None
        return {
            "serial": attempt.serial,
            "operator": attempt.operator,
            "unit_profile": attempt.unit_profile,
            "run_id": attempt.run_id,
            "attempt": attempt.attempt,
            "running": attempt.exit_code is None,
            "stopping": attempt.stop_requested and attempt.exit_code is None,
            "stopped": attempt.stop_requested and attempt.exit_code is not None,
            "exit_code": attempt.exit_code,
            "safe_state_error": attempt.safe_state_error,
            "log": list(attempt.log)[-20:],
        }

    def close(self) -> None:
        """The station is going away: a certification still running is stopped, its safe state
        waited for."""
        attempt = self.current
        if attempt is not None and attempt.exit_code is None:
            self.stop()
            try:
                attempt.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                attempt.process.kill()
