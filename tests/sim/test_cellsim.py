"""The Chroma 87001 driver against its emulator: channel lists, read-back, per-channel protection."""

from __future__ import annotations

import pytest

from instruments.errors import InstrumentReportedError
from sim.bench import SimulatedBench
from tests.sim.conftest import cells_read, wait_for


def test_voltages_and_quiescent_current_per_channel(connect) -> None:
    cells = connect("cellsim")
    assert cells.measure_voltages() == [0.0] * 24  # outputs open after power-up
    cells.output_on()
    assert cells.measure_voltages() == [3.3] * 24  # the profile's default cell voltage
    # all below the BMS's 3.40 V balancing threshold: it bleeds nothing, whatever the spread
    voltages = [3.2 + 0.005 * i for i in range(24)]
    cells.set_cell_voltages(voltages)
    cells.set_cell_voltage(5, 3.38)
    voltages[4] = 3.38
    assert cells.measure_voltages() == pytest.approx(voltages)
    assert cells.measure_currents() == pytest.approx([0.001] * 24)  # the BMS front end's quiescent draw
    assert cells.query("MEAS:VOLT? (@5)") == "3.38"
    assert cells.query("MEAS:VOLT? (@1,3,5)") == "3.2,3.21,3.38"
    cells.check_errors()
    cells.output_off()
    assert cells.measure_currents() == [0.0] * 24


def test_balancing_bleed_shows_in_the_current_read_back(connect, bench: SimulatedBench, vcu) -> None:
    cells = connect("cellsim")
    cells.output_on()
    # a BMS that tripped on under-voltage while its cells were off does not balance: reset it
    wait_for(lambda: cells_read(bench), what="the BMS reading its cells")
    vcu.command_bms(close_contactors=False)
    vcu.reset_faults()
    wait_for(lambda: not bench.plant.bms.active_faults, what="the BMS without faults")
    cells.set_cell_voltage(5, 3.45)  # above 3.40 V and 150 mV above the rest: the BMS bleeds it
    bleed_ohm = bench.profile["bms"]["balance_resistance"]
    quiescent_a = 0.001
    high_a = quiescent_a + 3.45 / bleed_ohm  # 105.5 mA through the 33 Ω bleed resistor
    currents = wait_for(
        lambda: (c := cells.measure_currents())[4] == pytest.approx(high_a, rel=1e-4) and c,
        what="the bleed current on channel 5",
    )
    others = currents[:4] + currents[5:]
    # the rest sit at the lowest voltage: quiescent, but for a cell the BMS's measurement noise
    # puts more than 5 mV above the lowest now and then, which it bleeds for that cycle
    assert all(
        c == pytest.approx(quiescent_a, rel=1e-4)
        or c == pytest.approx(quiescent_a + 3.3 / bleed_ohm, rel=1e-4)
        for c in others
    )
    assert sorted(others)[len(others) // 2] == pytest.approx(quiescent_a, rel=1e-4)
    with bench.simulation.now() as plant:
        assert plant.bms.state.balancing_active
    cells.set_cell_voltage(5, 3.30)  # back in line: balancing stops
    wait_for(lambda: cells.measure_currents()[4] == pytest.approx(quiescent_a, rel=1e-4), what="bleed off")


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


def test_the_instrument_refuses_what_scpi_refuses(connect) -> None:
    """No 87001 programming manual was found (every command of the driver is unverified), so these are
    SCPI-99's own errors: an unknown header is -113, a value on a query-only header -113, a channel the
    unit does not have -222, a word where ON/OFF belongs -224. Each reaches the driver as an error
    naming the command, and nothing it carried is applied."""
    cells = connect("cellsim")
    before = cells.measure_voltages()
    for command, code in [
        ("SOUR:VOLT:SLEW 1", -113),
        ("MEAS:VOLT 3.1,(@1)", -113),
        ("SOUR:VOLT 3.1,(@25)", -222),
        ("OUTP MAYBE,(@1)", -224),
    ]:
        cells.write(command)
        with pytest.raises(InstrumentReportedError) as raised:
            cells.check_errors()
        assert raised.value.command == command and [c for c, _ in raised.value.entries] == [code]
        assert command in str(raised.value)
    assert cells.measure_voltages() == before
    assert cells.query("OUTP? (@1)") == "0"
