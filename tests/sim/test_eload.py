"""The Chroma 63200 driver against its emulator, on the pack side with the supply, the DUT powered."""

from __future__ import annotations

import pytest

from instruments.errors import InstrumentReportedError, OutOfRating
from sim.bench import SimulatedBench
from sim.plant.eload import OVER_TEMPERATURE
from tests.sim.conftest import wait_for


@pytest.fixture
def link(connect):
    """The supply holding the pack side at 100 V, where the e-load sits. The BMS does not pre-charge
    from a pack below its minimum close voltage, so its contactors stay open: only the load draws."""
    supply = connect("supply")
    supply.set_current_limit(50.0)
    supply.set_slew(8000.0)
    supply.set_voltage(100.0)
    supply.output_on()
    wait_for(lambda: supply.measure_voltage() == pytest.approx(100.0), what="100 V on the pack side")
    return supply


@pytest.mark.parametrize(
    ("mode", "setter", "value", "expected_a"),
    [
        ("CCH", "set_current", 12.5, 12.5),
        ("CRH", "set_resistance", 10.0, 10.0),
        ("CPH", "set_power", 500.0, 5.0),
    ],
)
def test_static_modes_sink_what_they_are_set_to(
    connect, link, bench: SimulatedBench, mode, setter, value, expected_a
) -> None:
    eload = connect("eload")
    eload.set_mode(mode)
    getattr(eload, setter)(value)
    eload.load_on()
    assert eload.mode == mode
    wait_for(lambda: eload.measure_current() == pytest.approx(expected_a, rel=1e-3), what=f"{mode} current")
    assert eload.measure_voltage() == pytest.approx(100.0)
    assert eload.measure_power() == pytest.approx(100.0 * expected_a, rel=1e-3)
    # the supply feeds the e-load alone: the contactors to the DC link are open
    assert link.measure_current() == pytest.approx(expected_a, abs=1e-4)
    eload.check_errors()


def test_cv_mode_pulls_the_link_down_to_where_the_supply_limits(connect, link) -> None:
    link.set_current_limit(20.0)
    eload = connect("eload")
    eload.set_mode("CVH")
    eload.write("VOLT:STAT:L1 80")
    eload.load_on()
    # the supply current-limits at 20 A and the load's CV loop (50 A/V) holds the node just above
    # its set point: 80 V + 20 A / 50 A/V, steadily (no limit cycle between the two regulators)
    wait_for(lambda: eload.measure_current() == pytest.approx(20.0, abs=0.1), what="20 A through the load")
    readings = [(eload.measure_voltage(), eload.measure_current()) for _ in range(20)]
    assert all(v == pytest.approx(80.4, abs=0.02) and i == pytest.approx(20.0, abs=0.1) for v, i in readings)


def test_the_instrument_refuses_what_the_63200a_refuses(connect) -> None:
    """Headers the 63200A does not have are -113 on its error queue, a mode without its range
    letter is an illegal value, a query-only header takes no value: each reaches the driver as an
    error naming the command."""
    eload = connect("eload")
    for command, code in [
        ("CURR:PROT 200", -113),  # no trip level to program: OCP is a test mode on the 63200A
        ("POW:PROT 6000", -113),
        ("MODE CV", -224),  # constant voltage is CVL, CVM or CVH
        ("LOAD:PROT 1", -113),  # LOAD:PROT? is a query only
        ("MEAS:CURR 5", -113),
    ]:
        eload.write(command)
        with pytest.raises(InstrumentReportedError) as raised:
            eload.check_errors()
        assert raised.value.command == command and [c for c, _ in raised.value.entries] == [code]
        assert command in str(raised.value)


def test_bad_mode_is_refused_by_the_driver_and_the_emulator(connect) -> None:
    eload = connect("eload")
    with pytest.raises(OutOfRating):
        eload.set_mode("CZ")
    eload.write("MODE CZ")
    eload.write("CURR:STAT:L1 300")
    with pytest.raises(InstrumentReportedError) as raised:
        eload.check_errors()
    assert [code for code, _ in raised.value.entries] == [-224, -222]


def test_protection_programming_sends_nothing_and_refuses_a_tighter_envelope(connect, bench) -> None:
    eload = connect("eload")
    since = len(bench.command_log())
    eload.program_protection(ocp_a=240.0, opp_w=6000.0)
    with pytest.raises(OutOfRating, match="cannot be held"):
        eload.program_protection(ocp_a=5.0, opp_w=6000.0)
    assert [r for r in bench.command_log()[since:] if r["instrument"] == "eload"] == []


def test_a_trip_latches_the_input_off_until_cleared(connect, link, bench: SimulatedBench) -> None:
    """The load's own fixed protections (here an over-temperature) latch its input off; LOAD ON is
    refused until LOAD:PROT:CLE."""
    eload = connect("eload")
    eload.set_mode("CCH")
    eload.set_current(10.0)
    eload.load_on()
    wait_for(lambda: eload.measure_current() == pytest.approx(10.0, rel=1e-3), what="10 A")
    with bench.simulation.now() as plant:
        plant.eload.trip(OVER_TEMPERATURE)
    protection = eload.protection()
    assert protection.reasons == ["over-temperature"]
    assert eload.query("LOAD?") == "OFF"
    assert eload.measure_current() == 0.0
    eload.write("LOAD ON")
    with pytest.raises(InstrumentReportedError) as raised:
        eload.check_errors()
    assert raised.value.entries[0][0] == -221
    eload.clear_protection()
    assert not eload.protection().tripped
