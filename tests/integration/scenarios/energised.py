"""Scenarios run by tests/integration/test_safe_state_exits.py in a child pytest; not collected directly.

Each energises every instrument, then ends one way: a failed assertion, an exception, or a long
dwell that the parent interrupts with SIGINT or SIGTERM.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


@pytest.fixture
def energised(supply, cellsim, eload, dyno, tempsim, isofault):
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
    tempsim.set_resistance(1, 4000)
    isofault.insert("hv_pos", 300_000)
    isofault.set_link_load(True)
    Path(os.environ["HIL_SCENARIO_MARK"]).write_text("energised")


def test_fails(energised):
    assert 1 + 1 == 3, "deliberate failure mid-scenario"


def test_raises(energised):
    raise RuntimeError("deliberate error mid-scenario")


def test_dwells(energised):
    time.sleep(120)  # a long dwell at operating point; the parent sends the signal meanwhile
