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
    def __init__(self, started: float, path: str | Path | None = None) -> None:
        self._started = started
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
            self._records.append(entry)
            if self._file is not None:
                # flushed per line: a run killed by SIGTERM still leaves every command it received
                self._file.write(json.dumps(entry) + "\n")
                self._file.flush()

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r, args=list(r["args"])) for r in self._records]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
