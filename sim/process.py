"""The simulated bench in a process of its own: the ``simulated-bench`` service with ``process: true``.

The plant steps in simulated time locked to the wall clock; inside the test's process it shares one
interpreter lock with the test, and a loaded machine then stalls it long enough for the drive to
miss its TSC1 deadline. In its own process it keeps time whatever the test does.

The parent starts ``python -m sim bench-process`` in a session of its own (a Ctrl-C to the test's
process group must not stop the simulator before the test's safe state has run against it) and
writes the spec to its stdin as one JSON line: ``instruments``, ``can`` and ``options`` exactly as
``sim.service.start`` takes them. The child serves every instrument and CAN over socketcand on
127.0.0.1 and answers with one JSON line on stdout, ``{"ready": {"resources": ..., "can_kwargs":
..., "unit_serial": ..., "control": "127.0.0.1:<port>"}}`` (the fault-injection control port,
``sim.injection``) or ``{"error": {"type": "ValueError" | "OSError", "message": ...}}`` (the text
the in-process service raises). It then serves until its stdin closes (the parent stopped it, or
died) or it gets SIGTERM. The command log always goes to a file (JSON lines), which the parent
reads back.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("sim.process")

START_TIMEOUT_S = 60.0  # imports alone take 1-3 s, far more on a loaded machine
STOP_POLITE_S = 5.0  # after stdin closes, before SIGTERM
STOP_TERM_S = 3.0  # after SIGTERM, before SIGKILL
STDERR_LINES = 20  # of the child's stderr, kept for the error that reports its death

ROOT = Path(__file__).resolve().parents[1]


def child_command() -> list[str]:
    return [sys.executable, "-m", "sim", "bench-process"]


def _child_env() -> dict[str, str]:
    # the child imports the same ``sim`` as this process, installed or not
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


class ProcessBench:
    """What ``sim.service.start`` returns with ``process: true``: ``resources``, ``can_kwargs``,
    ``command_log()`` and ``stop()``, as the in-process bench offers them to the framework; ``pid``
    is the simulator's process."""

    def __init__(
        self,
        instruments: list[dict[str, Any]],
        can_config: dict[str, Any],
        options: dict[str, Any],
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        interface = can_config.get("interface")
        if interface != "socketcand":
            raise ValueError(
                f"can.interface {interface!r}: the simulated bench in its own process serves CAN "
                "over socketcand (interface: socketcand, host: 127.0.0.1, port: 0)"
            )
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._ready = False
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        options = {k: v for k, v in options.items() if k not in ("process", "start_timeout_s")}
        self._owned_log: Path | None = None
        if options.get("log"):
            self.log_path = Path(options["log"])
        else:
            handle, name = tempfile.mkstemp(prefix="hil-sim-commands-", suffix=".jsonl")
            os.close(handle)
            self.log_path = self._owned_log = Path(name)
            options["log"] = name
        # the file is appended to: this bench's records are those after what an earlier run left
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        spec = {"instruments": instruments, "can": dict(can_config), "options": options}
        try:
            line = json.dumps(spec) + "\n"
        except TypeError as exc:
            self._remove_owned_log()
            raise ValueError(f"simulator options: {exc}") from None
        try:
            self._process = subprocess.Popen(
                child_command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env=_child_env(),
            )
        except OSError:
            self._remove_owned_log()
            raise
        assert self._process.stdin and self._process.stdout and self._process.stderr
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, args=(self._process.stderr,), name="sim-process-stderr", daemon=True
        )
        self._stderr_thread.start()
        try:
            self._process.stdin.write(line.encode())
            self._process.stdin.flush()
            report = self._await_report(start_timeout_s)
        except BaseException:
            self.stop()
            raise
        if "error" in report:
            self.stop()
            kind = OSError if report["error"].get("type") == "OSError" else ValueError
            raise kind(report["error"]["message"])
        ready = report["ready"]
        self.resources: dict[str, str] = dict(ready["resources"])
        self.can_kwargs: dict[str, Any] = dict(ready["can_kwargs"])
        self.unit_serial: str = ready["unit_serial"]
        #: the fault-injection control port, ``127.0.0.1:<port>`` (``sim.injection``)
        self.control: str | None = ready.get("control")
        self._ready = True

    @property
    def pid(self) -> int:
        return self._process.pid

    def _drain_stderr(self, stream: IO[bytes]) -> None:
        """Kept short for an error report and passed on to logging: the child writes only warnings
        and tracebacks there, which in-process would have gone to the same loggers."""
        for raw in stream:
            text = raw.decode(errors="replace").rstrip()
            if text:
                self._stderr_tail.append(text)
                log.warning("simulated bench process: %s", text)

    def _await_report(self, timeout_s: float) -> dict[str, Any]:
        stdout = self._process.stdout
        assert stdout is not None
        received = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout_s
            while b"\n" not in received:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._kill()
                    raise TimeoutError(
                        f"simulated bench process (pid {self.pid}) not ready within {timeout_s:g} s, "
                        f"killed{self._stderr_summary()}"
                    )
                if not selector.select(left):
                    continue
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    code = self._process.wait(timeout=STOP_TERM_S)
                    self._stderr_thread.join(timeout=STOP_TERM_S)
                    raise ChildProcessError(
                        f"simulated bench process exited with code {code} before it was ready"
                        f"{self._stderr_summary()}"
                    )
                received += chunk
        first = received.split(b"\n", 1)[0].decode(errors="replace")
        try:
            report = json.loads(first)
        except json.JSONDecodeError:
            report = None
        if not isinstance(report, dict) or not ({"ready", "error"} & report.keys()):
            raise ChildProcessError(f"simulated bench process: not a ready line: {first[:200]!r}")
        return report

    def _stderr_summary(self) -> str:
        lines = list(self._stderr_tail)
        return f"; last stderr: {' | '.join(lines)}" if lines else "; nothing on stderr"

    def _kill(self) -> None:
        self._process.kill()
        self._process.wait()

    def command_log(self) -> list[dict[str, Any]]:
        """The records of this bench's command log so far (a line still being written is left out)."""
        try:
            with self.log_path.open("rb") as file:
                file.seek(self._log_offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def stop(self) -> None:
        """Closing stdin asks the child to stop; SIGTERM, then SIGKILL if it does not. Reaped,
        ports released, a temporary command log removed; safe to call twice."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        process = self._process
        with contextlib.suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=STOP_POLITE_S)
        except subprocess.TimeoutExpired:
            log.warning("simulated bench process %d did not stop when asked; terminating", process.pid)
            process.terminate()
            try:
                process.wait(timeout=STOP_TERM_S)
            except subprocess.TimeoutExpired:
                log.warning("simulated bench process %d ignored SIGTERM; killing", process.pid)
                self._kill()
        self._stderr_thread.join(timeout=STOP_TERM_S)
        process.stdout.close()  # type: ignore[union-attr]
        if self._ready and process.returncode != 0:
            log.warning(
                "simulated bench process ended with code %s%s", process.returncode, self._stderr_summary()
            )
        self._remove_owned_log()

    def _remove_owned_log(self) -> None:
        if self._owned_log is not None:
            self._owned_log.unlink(missing_ok=True)
            self._owned_log = None

    def __enter__(self) -> ProcessBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the child ---------------------------------------------------------------------------------------
def serve_child() -> int:
    """``python -m sim bench-process``: read the spec, start the bench, report, serve until stdin
    closes or SIGTERM; the exit code is 0 after a clean stop, 1 when the bench did not start."""
    from sim.service import ServedBench

    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # only the one report goes to stdout, which the parent stops reading after it; anything else
    # written there, from Python or not, goes to stderr, which the parent reads and logs
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    line = sys.stdin.buffer.readline()
    if not line:
        return 1  # the parent went away before it said what to serve
    spec = json.loads(line)
    try:
        served = ServedBench(spec["instruments"], spec["can"], spec["options"])
    except (ValueError, OSError) as exc:
        kind = "OSError" if isinstance(exc, OSError) else "ValueError"
        report.write(json.dumps({"error": {"type": kind, "message": str(exc)}}) + "\n")
        report.close()
        return 1
    try:
        # what start-up made lives as long as the bench: out of the collector's full passes, which
        # otherwise walk it every time and hold every thread of the plant still while they do
        gc.freeze()
        report.write(
            json.dumps(
                {
                    "ready": {
                        "resources": served.bench.resources,
                        "can_kwargs": served.bench.can_kwargs,
                        "unit_serial": served.bench.unit_serial,
                        "control": served.control.address,
                    }
                }
            )
            + "\n"
        )
        report.close()

        def watch_parent() -> None:
            # EOF: the parent closed the pipe to stop us, or died (even by SIGKILL)
            while sys.stdin.buffer.read(4096):
                pass
            stopping.set()

        threading.Thread(target=watch_parent, name="sim-process-parent", daemon=True).start()
        while not stopping.wait(1.0):
            pass
    finally:
        served.stop()
    return 0
