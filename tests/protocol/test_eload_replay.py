"""Replay: the Chroma 63600 exchange written down by someone else, bytes as a real unit sent them.

Source: PyMeasure's protocol tests for its Chroma 63600 driver (pymeasure/pymeasure
tests/instruments/chroma/test_chroma_63600.py): each pair is a message PyMeasure's driver sends and the
reply recorded from a real 63600-5 mainframe (replies such as ``0.0038438`` and ``24.00`` are
measurements, not made-up values). The messages are replayed exactly, each closed by the newline our
socket transport frames messages with.
"""

from __future__ import annotations

import pytest

from instruments.eload import Chroma63600


def _replayed(pairs: list[tuple[bytes, bytes | None]]) -> list[tuple[bytes, bytes | None]]:
    return [(sent + b"\n", None if reply is None else reply + b"\n") for sent, reply in pairs]


def test_channel_1_switch_state_mode_and_status(expected_protocol):
    with expected_protocol(
        Chroma63600,
        _replayed(
            [
                (b"CHAN 1;LOAD ON", None),  # test_ch_1_enabled_setter
                (b"CHAN 1;LOAD?", b"ON"),  # test_ch_1_enabled_getter
                (b"CHAN 1;:MODE?", b"CRH"),  # test_ch_1_mode_getter
                (b"CHAN 1;LOAD:PROTECTION?", b"0"),  # test_ch_1_status_getter
            ]
        ),
        model="63630-80-60/CH1",
    ) as load:
        load.load_on()
        assert load.load_enabled() is True
        assert load.mode == "CRH"
        protection = load.protection()
        assert not protection.tripped and protection.reasons == []


def test_channel_3_readings_mode_and_resistance(expected_protocol):
    with expected_protocol(
        Chroma63600,
        _replayed(
            [
                (b"CHAN 3;FETCH:CURRENT?", b"0.0038438"),  # test_ch_3_current_getter
                (b"CHAN 3;:MODE CRH", None),  # test_ch_3_mode_setter
                (b"CHAN 3;FETCH:POWER?", b"0.0000054"),  # test_ch_3_power_getter
                (b"CHAN 3;RESISTANCE:STATIC:L1 10", None),  # test_ch_3_resistance_setpoint_1_setter
                (b"CHAN 3;RESISTANCE:STATIC:L1?", b"24.00"),  # test_ch_3_resistance_setpoint_1_getter
                (b"CHAN 3;FETCH:VOLTAGE?", b"0.0009822"),  # test_ch_3_voltage_getter
            ]
        ),
        model="63630-80-60/CH3",
    ) as load:
        assert load.measure_current() == pytest.approx(0.0038438)
        load.set_mode("CRH")
        assert load.measure_power() == pytest.approx(5.4e-06)
        load.set_resistance(10)
        assert load.resistance_setpoint_ohm == 24.0
        assert load.measure_voltage() == pytest.approx(0.0009822)


def test_channel_5_mode_and_status(expected_protocol):
    with expected_protocol(
        Chroma63600,
        _replayed(
            [
                (b"CHAN 5;:MODE?", b"CRH"),  # test_ch_5_mode_getter
                (b"CHAN 5;LOAD:PROTECTION?", b"0"),  # test_ch_5_status_getter
            ]
        ),
        model="63630-80-60/CH5",
    ) as load:
        assert load.mode == "CRH"
        assert not load.protection().tripped


def test_the_63600_has_no_trip_level_to_program(expected_protocol):
    with expected_protocol(Chroma63600, [], model="63610-80-20/CH9") as load:
        load.program_protection(ocp_a=20.0, opp_w=100.0)
        with pytest.raises(ValueError, match="ocp_a=10 cannot be held"):
            load.program_protection(ocp_a=10.0, opp_w=100.0)
        with pytest.raises(ValueError, match=r"resistance_setpoint_ohm=0\.01"):
            load.set_resistance(0.01)
