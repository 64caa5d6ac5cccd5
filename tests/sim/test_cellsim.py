"""The Chroma 87001 driver against its emulator: channel lists, read-back, per-channel protection."""

from __future__ import annotations

import pytest

from instruments.errors import InstrumentReportedError
from tests.sim.conftest import wait_for


def test_voltages_and_quiescent_current_per_channel(connect) -> None:
    cells = connect("cellsim")
    assert cells.measure_voltages() == [0.0] * 24  # outputs open after power-up
    cells.output_on()
    assert cells.measure_voltages() == [3.3] * 24  # the profile's default cell voltage
    voltages = [3.2 + 0.005 * i for i in range(24)]
    cells.set_cell_voltages(voltages)
    cells.set_cell_voltage(5, 3.65)
    voltages[4] = 3.65
    assert cells.measure_voltages() == pytest.approx(voltages)
    assert cells.measure_currents() == pytest.approx([0.001] * 24)
    assert cells.query("MEAS:VOLT? (@5)") == "3.65"
    assert cells.query("MEAS:VOLT? (@1,3,5)") == "3.2,3.21,3.65"
    cells.check_errors()
    cells.output_off()
    assert cells.measure_currents() == [0.0] * 24


def test_channel_subsets_switch_alone(connect) -> None:
    cells = connect("cellsim")
    cells.write("OUTP ON,(@2:3)")
    assert cells.query("OUTP? (@1:4)") == "0,1,1,0"
    cells.write("SOUR:VOLT 9,(@1)")
    cells.write("SOUR:VOLT 3.3,(@30)")
    with pytest.raises(InstrumentReportedError) as raised:
        cells.check_errors()
    assert [code for code, _ in raised.value.entries] == [-222, -222]


def test_over_voltage_opens_only_that_channel_until_cleared(connect) -> None:
    cells = connect("cellsim")
    cells.program_protection(ovp_v=3.8, ocp_a=1.0)
    cells.output_on()
    cells.set_cell_voltage(7, 4.0)
    wait_for(lambda: cells.query("OUTP:PROT:TRIP? (@7)") == "1", what="channel 7 trip")
    readings = cells.measure_voltages()
    assert readings[6] == 0.0 and readings[5] == 3.3
    cells.write("OUTP ON,(@7)")
    assert cells.query("OUTP? (@7)") == "0"
    cells.set_cell_voltage(7, 3.3)
    cells.write("PROT:CLE (@7)")
    cells.write("OUTP ON,(@7)")
    assert cells.measure_voltages()[6] == 3.3
