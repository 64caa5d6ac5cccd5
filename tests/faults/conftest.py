"""A simulated bench in its own process per test, opened by the framework as a run opens it, with
the simulator's fault-injection control port beside it (``sim.injection``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hil.bench import Bench
from sim.injection import FaultControl

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fbench() -> Iterator[Bench]:
    bench = Bench.from_file(ROOT / "benches" / "sim.yaml").open()
    try:
        yield bench
    finally:
        # the faulty instrument's safe state may fail again; the test has checked it
        with contextlib.suppress(Exception):
            bench.close()


@pytest.fixture
def control(fbench: Bench) -> Iterator[FaultControl]:
    with FaultControl(fbench.service.control) as client:
        yield client
