"""The 34980A driver and the IFB-1 box against their emulator: what the relays insert reaches the
BMS's insulation monitor and the DC link; empty slots and channels the module lacks are refused."""

from __future__ import annotations

import math

import pytest

from instruments.errors import InstrumentReportedError
from sim.bench import SimulatedBench
from tests.sim.conftest import wait_for


def _insulation(bench: SimulatedBench) -> float:
    with bench.simulation.now() as plant:
        return plant.bms.state.insulation_ohm


def test_identity_and_module_in_the_vendor_format(connect) -> None:
    box = connect("isofault")
    identity = box.identify()
    assert (identity.manufacturer, identity.model) == ("Agilent Technologies", "34980A")
    assert box.query("SYST:CTYP? 1") == '"Agilent Technologies,34937A,SIM-IF-0001-1,2.51-2.43-2.13-1.00"'
    assert box.query("SYST:CTYP? 2") == '"Agilent Technologies,0,0,0"'


def test_inserted_resistance_reaches_the_insulation_monitor(connect, bench: SimulatedBench) -> None:
    box = connect("isofault")
    harness = bench.profile["bench"]["insulation_resistance"]
    ceiling = bench.profile["bms"]["insulation_measure_max"]
    assert _insulation(bench) == pytest.approx(min(harness, ceiling))
    inserted = box.insert("hv_neg", 268_000)
    expected = inserted * harness / (inserted + harness)  # in parallel with the harness's own
    wait_for(lambda: _insulation(bench) == pytest.approx(expected), what="BMS measuring the HV- fault")
    assert box.inserted() == {"link_load": 0.0, "hv_pos": math.inf, "hv_neg": 268_000}
    box.open_all()
    wait_for(lambda: _insulation(bench) == pytest.approx(min(harness, ceiling)), what="fault removed")


def test_link_load_draws_from_the_link(connect, powered: SimulatedBench) -> None:
    box, supply = connect("isofault"), connect("supply")
    idle_a = supply.measure_current()
    box.set_link_load(True)
    # 10 Ω across the 537.6 V link behind the closed contactors: 53.8 A more from the supply
    wait_for(lambda: supply.measure_current() - idle_a > 50.0, what="the link load's current")
    box.set_link_load(False)
    wait_for(lambda: supply.measure_current() - idle_a < 1.0, what="link load off")


def test_missing_hardware_and_channels_refused(connect) -> None:
    box = connect("isofault")
    box.write("ROUT:CLOS (@2001)")  # slot 2 is empty
    box.write("ROUT:CLOS (@1040)")  # the 34937A has 32 channels
    box.write("ROUT:CLOS 1001")  # not a channel list
    with pytest.raises(InstrumentReportedError) as raised:
        box.check_errors()
    assert [code for code, _ in raised.value.entries] == [-241, -222, -104]
    assert box.inserted()["hv_pos"] == math.inf


def test_what_the_34980a_does_not_know_is_its_own_undefined_header(connect) -> None:
    box = connect("isofault")
    box.write("LOAD ON")  # an electronic load's command, sent to the switch unit
    with pytest.raises(InstrumentReportedError) as raised:
        box.check_errors()
    assert raised.value.detail == """error queue after 'LOAD ON': -113,"Undefined header\""""
    box.write("ROUTe:OPEN:ALL?")  # a command with no query form
    with pytest.raises(InstrumentReportedError, match=r"'ROUTe:OPEN:ALL\?': -113"):
        box.check_errors()
