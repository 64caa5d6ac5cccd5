"""Scenarios that tests/safety/ runs in a child pytest; not collected directly.

The bench is energised as a drive test leaves it mid-scenario (dyno turning, supply at 600 V, load
on, cells on), the mark file (``HIL_SCENARIO_MARK``) gets the guardian's pid, and the test dwells
until the parent kills, stops or signals the run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest


@pytest.fixture
def energised(bench, supply, cellsim, eload, dyno):
    cellsim.set_current_limit(1.0)
    cellsim.set_cell_voltages([3.3] * cellsim.channels)
    cellsim.output_on()
    supply.set_current_limit(100)
    supply.set_sink_current_limit(50)
    supply.set_slew(1000)
    supply.set_voltage(600)
    supply.output_on()
    eload.set_mode("CCH")
    eload.set_current(10)
    eload.load_on()
    dyno.set_speed(1500)
    deadline = time.monotonic() + 30
    while supply.measure_voltage() < 590 or dyno.read().speed_rpm < 1400:
        assert time.monotonic() < deadline, "bench not energised within 30 s"
        time.sleep(0.05)
    guardian = None if bench.guardian is None else bench.guardian.pid
    Path(os.environ["HIL_SCENARIO_MARK"]).write_text(json.dumps({"guardian_pid": guardian}))


def test_dwells(energised):
    time.sleep(300)  # a long dwell at the operating point; the parent acts meanwhile
