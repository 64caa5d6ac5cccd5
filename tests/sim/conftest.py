"""Fixtures for the simulated bench's own tests: a bench per test, drivers over real sockets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import pyvisa

from instruments.base import Instrument
from instruments.registry import driver_class
from sim.bench import SimulatedBench
from sim.service import start

INSTRUMENTS = [
    {"name": "supply", "driver": "itech.it6000c", "model": "IT6054C-800-340", "serial": "SIM-PS-0001"},
    {"name": "cellsim", "driver": "chroma.87001", "model": "87001-24", "serial": "SIM-CS-0001"},
    {"name": "eload", "driver": "chroma.63200", "model": "63210A-1200-240", "serial": "SIM-EL-0001"},
    {"name": "dyno", "driver": "magtrol.dsp7000", "model": "DSP7000-AC250", "serial": "SIM-DY-0001"},
    {"name": "analyzer", "driver": "yokogawa.wt5000", "model": "WT5000", "serial": "SIM-PA-0001"},
]


def instruments(port: int = 0) -> list[dict[str, Any]]:
    return [dict(i, resource=f"TCPIP0::127.0.0.1::{port}::SOCKET") for i in INSTRUMENTS]


def wait_for(condition: Callable[[], Any], timeout_s: float = 5.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy; its value, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not met within {timeout_s} s (last value {value!r})")
        time.sleep(0.002)


@pytest.fixture
def bench(tmp_path: Any) -> Iterator[SimulatedBench]:
    sim = start(instruments(), {"interface": "virtual", "channel": "ignored"}, {"seed": 7})
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def resource_manager() -> Iterator[pyvisa.ResourceManager]:
    # the "@py" manager is one per process; closing it would close other tests' resources too
    yield pyvisa.ResourceManager("@py")


@pytest.fixture
def connect(
    bench: SimulatedBench, resource_manager: pyvisa.ResourceManager
) -> Iterator[Callable[[str], Any]]:
    """Open the named instrument's driver against the bench; closed after the test."""
    opened: list[Instrument] = []

    def open_driver(name: str) -> Any:
        spec = next(i for i in INSTRUMENTS if i["name"] == name)
        driver = driver_class(spec["driver"]).open(
            resource_manager, bench.resources[name], name=name, model=spec["model"]
        )
        opened.append(driver)
        return driver

    yield open_driver
    for driver in opened:
        driver.close()
