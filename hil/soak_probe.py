"""pytest plugin for ``hil soak``: as each test starts, append the process's memory, threads and open
descriptors to the file ``HIL_SOAK_PROBE`` names (one JSON line; each pytest-xdist worker appends its
own lines, under its pid). Loaded with ``-p hil.soak_probe``; without the variable it does nothing."""

from __future__ import annotations

import json
import os

from hil.soak import PROBE_ENV, Sample


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    path = os.environ.get(PROBE_ENV)
    if not path:
        return
    sample = Sample.of()
    record = {"pid": os.getpid(), "test": nodeid, **sample.__dict__}
    # one short line per write in append mode: workers writing side by side do not interleave
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
