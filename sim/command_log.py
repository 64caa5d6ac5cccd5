"""Every command each emulated instrument receives: the ground truth a safety test checks.

One record per command (``;`` chains split): ``t`` (s since the simulation started),
``instrument`` (bench name), ``command`` (as sent, root colon kept), ``header`` (normalised short
form, or the Magtrol command word), ``args`` and ``error`` (0, or the SCPI error code the command
raised; -113 also for a command the Magtrol emulator ignores).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger("sim.command_log")

# a plant loop at 100 Hz sends ~400 commands a second, ~470 bytes each in memory: without a file the
# log keeps the last ~4 minutes of them (~47 MB at most); with a file, the file keeps everything
IN_MEMORY = 100_000
BESIDE_A_FILE = 1_000


class CommandLog:
    """In memory (the last ``IN_MEMORY`` commands), or (with a path) in a JSON-lines file with the
    last ``BESIDE_A_FILE`` in memory. A file that cannot be written is reported once and the bench
    goes on serving, its log from then on in memory only: a full disk must not silence the bench."""

    def __init__(self, started: float, path: str | Path | None = None) -> None:
        self._started = started
        self._path = Path(path) if path is not None else None
        self._file: TextIO | None = None
        self._offset = 0
        # records are read back from a regular file only (a device such as /dev/null is written to)
        self._file_failed = True
        if path is not None:
            # O_NONBLOCK: a FIFO with no reader is an error at once, not a bench that never starts
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
            info = os.fstat(descriptor)
            self._offset, self._file_failed = info.st_size, not stat.S_ISREG(info.st_mode)
            self._file = os.fdopen(descriptor, "a", encoding="utf-8")
        self._recent: deque[dict[str, Any]] = deque(maxlen=IN_MEMORY if path is None else BESIDE_A_FILE)
        self.dropped = 0  # records the memory no longer holds: an offset into records() moves by as many
        self._lock = threading.Lock()

    def record(self, instrument: str, command: str, header: str, args: list[str], error: int = 0) -> None:
        entry = {
            "t": round(time.monotonic() - self._started, 6),
            "instrument": instrument,
            "command": command,
            "header": header,
            "args": list(args),
            "error": error,
        }
        with self._lock:
            if len(self._recent) == self._recent.maxlen:
                if self.dropped == 0 and self._file is None:
                    log.warning("command log: only the last %d commands are kept in memory", IN_MEMORY)
                self.dropped += 1
            self._recent.append(entry)
            if self._file is not None:
                try:
                    # flushed per line: a run killed by SIGTERM still leaves every command it received
                    self._file.write(json.dumps(entry) + "\n")
                    self._file.flush()
                except OSError as exc:
                    log.error(
                        "command log %s cannot be written (%s); kept in memory only from now", self._path, exc
                    )
                    self._close_file()
                    self._file_failed = True

    def records(self) -> list[dict[str, Any]]:
        """This run's records (a file appended to by earlier runs keeps theirs)."""
        with self._lock:
            if self._file_failed:
                return [dict(r, args=list(r["args"])) for r in self._recent]
            with open(self._path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                return [json.loads(line) for line in stream if line.strip()]

    def _close_file(self) -> None:
        if self._file is not None:
            # closing flushes what is buffered, which fails again on a full disk
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._close_file()
