"""Every command each emulated instrument receives: the ground truth a safety test checks.

One record per command (``;`` chains split): ``t`` (s since the simulation started),
``instrument`` (bench name), ``command`` (as sent, root colon kept), ``header`` (normalised short
form, or the Magtrol command word), ``args`` and ``error`` (0, or the SCPI error code the command
raised; -113 also for a command the Magtrol emulator ignores).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, TextIO


class CommandLog:
    """In memory, or (with a path) in a JSON-lines file only: a plant loop at 100 Hz sends ~400
    commands a second, which a bench running for hours must not keep in memory."""

    def __init__(self, started: float, path: str | Path | None = None) -> None:
        self._started = started
        self._path = Path(path) if path is not None else None
        self._offset = self._path.stat().st_size if self._path is not None and self._path.exists() else 0
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file: TextIO | None = open(path, "a", encoding="utf-8") if path is not None else None  # noqa: SIM115

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
            if self._file is None:
                self._records.append(entry)
            else:
                # flushed per line: a run killed by SIGTERM still leaves every command it received
                self._file.write(json.dumps(entry) + "\n")
                self._file.flush()

    def records(self) -> list[dict[str, Any]]:
        """This run's records (a file appended to by earlier runs keeps theirs)."""
        with self._lock:
            if self._path is None:
                return [dict(r, args=list(r["args"])) for r in self._records]
            with open(self._path, encoding="utf-8") as stream:
                stream.seek(self._offset)
                return [json.loads(line) for line in stream if line.strip()]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
