"""The PRS-202 driver against its emulator: the resistance reaches the BMS as the temperature an NTC
of that resistance is at; what the real unit refuses, the emulator refuses."""

from __future__ import annotations

import math

import pytest

from instruments.errors import InstrumentReportedError
from sim.bench import SimulatedBench
from sim.plant.thermistors import ntc_resistance_ohm, ntc_temperature_c
from tests.sim.conftest import wait_for


def _bms_hottest(bench: SimulatedBench) -> float:
    with bench.simulation.now() as plant:
        return plant.bms.state.max_temp_c


def test_identity_in_the_vendor_format(connect) -> None:
    prs = connect("tempsim")
    identity = prs.identify()
    assert (identity.manufacturer, identity.model) == ("IET Labs", "PRS-202-B-6-1-1-3")
    assert identity.serial == "SIM-TS-0001"


def test_powers_up_at_the_neutral_ntc_resistance(connect, bench: SimulatedBench) -> None:
    bms = bench.profile["bms"]
    neutral = ntc_resistance_ohm(bench.profile["bench"]["cell_temperature"], bms["ntc_r25"], bms["ntc_beta"])
    assert connect("tempsim").resistance(1) == round(neutral)
    assert _bms_hottest(bench) == pytest.approx(25.0, abs=0.01)


def test_resistance_reaches_the_bms_as_a_temperature(connect, bench: SimulatedBench) -> None:
    prs = connect("tempsim")
    bms = bench.profile["bms"]
    hot_ohm = ntc_resistance_ohm(58.0, bms["ntc_r25"], bms["ntc_beta"])
    prs.set_resistance(1, hot_ohm)
    wait_for(lambda: _bms_hottest(bench) == pytest.approx(58.0, abs=0.02), what="BMS reading 58 °C")
    with bench.simulation.now() as plant:
        # one NTC on the emulator, the rest on fixed 25 °C terminations
        assert plant.bms.state.min_temp_c == pytest.approx(25.0, abs=0.01)
    prs.open_circuit(1)
    assert math.isinf(prs.resistance(1))
    # an open NTC line reads as the coldest end of the NTC's range
    wait_for(lambda: bench.plant.bms.state.min_temp_c < -50.0, what="open line read cold")
    assert ntc_temperature_c(math.inf, bms["ntc_r25"], bms["ntc_beta"]) == bench.plant.bms.state.min_temp_c


def test_a_string_that_is_not_ten_digits_is_refused(connect) -> None:
    prs = connect("tempsim")
    before = prs.resistance(1)
    prs.write("SOURce:DATA 10k")
    prs.write("SOURce:DATA 00001000000")
    with pytest.raises(InstrumentReportedError) as raised:
        prs.check_errors()
    assert [bit for bit, _ in raised.value.entries] == [5]  # a command error (-104, data type)
    assert prs.resistance(1) == before


def test_reset_keeps_the_power_on_value_and_unfitted_decades_are_ignored(connect) -> None:
    prs = connect("tempsim")
    prs.write("SOURce:DATA 9000123450")  # 10^8 Ω decade: not fitted on a 6-decade unit
    assert prs.resistance(1) == 12345.0
    prs.reset()
    assert prs.resistance(1) == pytest.approx(10_000.0)


def test_what_the_prs_does_not_know_is_a_command_error_named_with_the_command(connect) -> None:
    prs = connect("tempsim")
    prs.write("OUTP ON")  # a supply's command, sent to the resistance substituter
    with pytest.raises(InstrumentReportedError) as raised:
        prs.check_errors()
    assert raised.value.detail == """*ESR? bits after 'OUTP ON': 5,"command error\""""
