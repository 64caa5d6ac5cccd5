"""The guardian: a process beside each run that brings the bench to its safe state if the run cannot.

The run's own safe state needs the run alive. SIGKILL (or a closed terminal killing the run's whole
process group) and SIGSTOP leave the supply at its voltage and the dyno turning. So while a bench
is open, a guardian runs in a session of its own (outside the run's process group), holding the
bench's config and the resource strings the run opened, and reading a heartbeat the run writes to
its stdin every ``HEARTBEAT_S`` from a thread:

- ``stop`` (the run closed the bench after its own safe state): the guardian exits without acting;
- end of file (the run died: every copy of the pipe's write end is gone) or a new parent (the run
  died and the guardian was re-parented): it acts at once;
- nothing for ``safe_state.heartbeat_timeout_s`` (the run is stopped or hung): it acts, and tells
  the run so on its stdout; a run resumed later hears it and ends through its own safe state
  instead of driving on against a bench that was made safe behind its back.

Acting is ``hil.safe_state.run_safe_state`` (the same steps in the same order) over connections the
guardian opens only then: until it acts it holds no session, so it never disturbs the run's
exchanges, and an instrument that takes one client at a time (many LAN instruments) is not kept
busy. The run's sessions are gone after a kill; after a stop they stay open and the guardian's is
a second session to the instrument. It logs what it did to ``guardian.log`` and writes
``guardian-<run pid>-<time>.json`` in the results folder, then exits.

Protocol: the run starts ``python -m hil.guardian`` and writes one JSON line to its stdin
(``config``: the bench config as data, ``resources``, ``run_pid``, ``record_dir``); the guardian
answers one JSON line on stdout, ``{"ready": {"pid": ...}}``, and then reads beats; after acting it
writes ``{"acted": {"reason": ..., "record": ...}}`` there and exits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pyvisa

from hil.config import BenchConfig
from hil.errors import HilError, SafeStateError
from hil.safe_state import STOP_SIGNALS, run_safe_state
from instruments.base import Instrument
from instruments.errors import InstrumentError

log = logging.getLogger("hil.guardian")

HEARTBEAT_S = 0.2
READY_TIMEOUT_S = 60.0  # imports alone take a second or two, far more on a loaded machine
STOP_TIMEOUT_S = 5.0
ROOT = Path(__file__).resolve().parents[1]


class GuardianError(HilError):
    """The guardian could not be started."""


# --- in the run ------------------------------------------------------------------------------------
class Guardian:
    """The run's handle on its guardian: ``start()`` once the instruments are open, ``stop()`` after
    the run's own safe state."""

    def __init__(
        self,
        config: BenchConfig,
        resources: dict[str, str],
        record_dir: Path,
        on_acted: Callable[[str], None] | None = None,
    ) -> None:
        """``on_acted`` hears, in the heartbeat thread, why the guardian made the bench safe while
        this run was stopped or hung, once the run goes on."""
        self.config = config
        self.on_acted = on_acted
        self.resources = dict(resources)
        self.record_dir = Path(record_dir).resolve()
        self._process: subprocess.Popen[bytes] | None = None
        self._beating = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self._pipe_lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        spec = {
            "config": self.config.model_dump(mode="json"),
            "resources": self.resources,
            "run_pid": os.getpid(),
            "record_dir": str(self.record_dir),
        }
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}
        # a session of its own: a kill of the run's process group, or a closed terminal, leaves it
        self._process = subprocess.Popen(
            [sys.executable, "-m", "hil.guardian"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        try:
            self._process.stdin.write(json.dumps(spec).encode() + b"\n")
            self._process.stdin.flush()
            self._await_ready(self._process.stdout)
        except BaseException:
            self._kill()
            raise
        self._beating.set()
        self._beat_thread = threading.Thread(target=self._beat, name="hil-guardian-heartbeat", daemon=True)
        self._beat_thread.start()
        log.info("guardian pid %d watches bench %s", self._process.pid, self.config.name)

    def _await_ready(self, stdout: IO[bytes]) -> None:
        received = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + READY_TIMEOUT_S
            while b"\n" not in received:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuardianError(f"guardian process not ready within {READY_TIMEOUT_S:g} s")
                if not selector.select(left):
                    continue
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    raise GuardianError(f"guardian process exited with code {self._process_wait()} at start")
                received += chunk
        line = received.split(b"\n", 1)[0].decode(errors="replace")
        try:
            ready = json.loads(line).get("ready")
        except (json.JSONDecodeError, AttributeError):
            ready = None
        if not isinstance(ready, dict):
            raise GuardianError(f"guardian process: not a ready line: {line[:200]!r}")

    def _process_wait(self) -> int | None:
        assert self._process is not None
        try:
            return self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None

    def _send(self, message: bytes) -> bool:
        assert self._process is not None and self._process.stdin is not None
        with self._pipe_lock:
            try:
                self._process.stdin.write(message)
                self._process.stdin.flush()
            except (OSError, ValueError):  # the guardian is gone, or the pipe closed by stop()
                return False
        return True

    def _beat(self) -> None:
        # a stop signal must be taken by the main thread, where it interrupts the test: one this
        # thread took (a signal sent to a stopped run goes to whichever thread runs first) would
        # leave the main thread asleep in its dwell
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        while self._beating.is_set():
            if not self._send(b"beat\n"):
                if self._beating.is_set():
                    self._gone()
                return
            time.sleep(HEARTBEAT_S)

    def _gone(self) -> None:
        """The guardian stopped listening: it acted on a run it took for hung, or it died."""
        assert self._process is not None and self._process.stdout is not None
        said = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
                chunk = os.read(self._process.stdout.fileno(), 4096)
                if not chunk:
                    break
                said += chunk
        acted = None
        for line in said.splitlines():
            with contextlib.suppress(json.JSONDecodeError, AttributeError):
                acted = json.loads(line).get("acted") or acted
        if not isinstance(acted, dict):
            log.error("guardian pid %s exited: the bench is unguarded for the rest of this run", self.pid)
            return
        reason = f"the guardian made the bench safe while this run was stopped ({acted.get('reason')})"
        log.error("%s; record %s", reason, acted.get("record"))
        if self.on_acted is not None:
            self.on_acted(reason)

    def stop(self) -> None:
        """Tell the guardian the run ended through its own safe state; it exits without acting."""
        if self._process is None:
            return
        self._beating.clear()
        if self._beat_thread is not None:
            self._beat_thread.join()
            self._beat_thread = None
        self._send(b"stop\n")
        with self._pipe_lock:
            assert self._process.stdin is not None
            with contextlib.suppress(OSError):  # a guardian already gone has nothing left to read
                self._process.stdin.close()
        if self._process_wait() is None:
            log.error("guardian pid %d did not stop within %g s; killed", self._process.pid, STOP_TIMEOUT_S)
            self._kill()
        self._process = None

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


# --- in the guardian process -------------------------------------------------------------------------
def open_drivers(
    config: BenchConfig, resources: dict[str, str]
) -> tuple[dict[str, Instrument], dict[str, str]]:
    """A session to every instrument that has a safe state; those that cannot be opened by name."""
    rm = pyvisa.ResourceManager("@py")
    drivers: dict[str, Instrument] = {}
    failed: dict[str, str] = {}
    for name, cfg in config.instruments.items():
        if cfg.driver_class.kind == "analyzer":
            continue  # it measures; it has nothing to switch off
        try:
            drivers[name] = cfg.driver_class.open(
                rm,
                resources.get(name, cfg.resource),
                name=name,
                model=cfg.model,
                timeout_ms=cfg.timeout_ms,
                open_timeout_ms=cfg.open_timeout_ms,
            )
        except InstrumentError as exc:
            failed[name] = exc.detail
    return drivers, failed


def bring_to_safe_state(
    config: BenchConfig,
    resources: dict[str, str],
    on_step: Callable[[str, str | None], None] | None = None,
) -> list[dict[str, Any]]:
    """Open the instruments, run the bench's safe state, close them; one record per instrument
    (``instrument``, ``error`` or None, ``seconds`` since the start), each also given to ``on_step``
    as it ends."""
    started = time.monotonic()
    steps: list[dict[str, Any]] = []

    def step(name: str, error: str | None) -> None:
        steps.append({"instrument": name, "error": error, "seconds": round(time.monotonic() - started, 3)})
        if on_step is not None:
            on_step(name, error)

    drivers, failed = open_drivers(config, resources)
    for name, error in failed.items():
        step(name, f"cannot open: {error}")
    try:
        run_safe_state(drivers, config.safe_state, on_step=step)
    except SafeStateError:
        pass  # each failure is in its step's record
    finally:
        for driver in drivers.values():
            try:
                driver.close()
            except Exception as exc:  # closing the rest matters more than this one
                log.warning("closing %s: %s", driver.name, exc)
    return steps


def _watch(stdin_fd: int, run_pid: int, timeout_s: float) -> tuple[bool, str] | None:
    """Read beats until the run stops us (None) or fails: then whether it hangs, and why to act."""
    last = time.monotonic()
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stdin_fd, selectors.EVENT_READ)
        while True:
            if selector.select(min(HEARTBEAT_S, timeout_s / 4)):
                chunk = os.read(stdin_fd, 4096)
                if not chunk:
                    return False, f"the run (pid {run_pid}) died: heartbeat closed without a stop"
                pending = (pending + chunk)[-64:]
                if b"stop\n" in pending:
                    return None
                last = time.monotonic()
            if os.getppid() != run_pid:
                return False, f"the run (pid {run_pid}) is gone"
            silent = time.monotonic() - last
            if silent > timeout_s:
                return True, f"no heartbeat from the run (pid {run_pid}) for {silent:.1f} s: stopped or hung"


def _record(
    record_dir: Path, run_pid: int, config: BenchConfig, reason: str, steps: list[dict[str, Any]]
) -> Path:
    record_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    path = record_dir / f"guardian-{run_pid}-{now:%Y%m%dT%H%M%S}.json"
    record = {
        "bench": config.name,
        "bench_file": config.path,
        "run_pid": run_pid,
        "guardian_pid": os.getpid(),
        "reason": reason,
        "acted_at": now.isoformat(),
        "steps": steps,
        "complete": all(s["error"] is None for s in steps),
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> int:
    # in a session of its own it gets no terminal signals; these would only come from a stray kill
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    stdin_fd = sys.stdin.fileno()
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(stdin_fd, 1)  # byte by byte: the beats that follow stay in the pipe
        if not chunk:
            return 2
        line += chunk
    spec = json.loads(line)
    config = BenchConfig.model_validate(spec["config"])
    resources, run_pid = dict(spec["resources"]), int(spec["run_pid"])
    record_dir = Path(spec["record_dir"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    record_dir.mkdir(parents=True, exist_ok=True)
    file_log = logging.FileHandler(record_dir / "guardian.log", encoding="utf-8", delay=True)
    file_log.setFormatter(logging.Formatter("%(asctime)s guardian pid %(process)d: %(message)s"))
    logging.getLogger("hil").addHandler(file_log)
    logging.getLogger("hil").setLevel(logging.INFO)
    sys.stdout.write(json.dumps({"ready": {"pid": os.getpid()}}) + "\n")
    sys.stdout.flush()
    verdict = _watch(stdin_fd, run_pid, config.safe_state.heartbeat_timeout_s)
    if verdict is None:
        return 0
    hung, reason = verdict
    log.error("%s: bringing bench %s to its safe state", reason, config.name)
    steps = bring_to_safe_state(config, resources)
    path = _record(record_dir, run_pid, config, reason, steps)
    failed = [f"{s['instrument']}: {s['error']}" for s in steps if s["error"] is not None]
    if failed:
        log.error("safe state incomplete (%s); record %s", "; ".join(failed), path)
    else:
        log.warning("bench %s in its safe state; record %s", config.name, path)
    if hung:  # a run resumed hears it (see Guardian._gone); a dead one has closed the pipe
        said = json.dumps({"acted": {"reason": reason, "record": str(path)}}) + "\n"
        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), said.encode())
    return 1


if __name__ == "__main__":
    sys.exit(main())
