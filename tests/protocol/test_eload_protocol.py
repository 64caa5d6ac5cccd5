"""Chroma 63200: modes, static levels, protection bits."""

from __future__ import annotations

import pytest

from instruments.base import READ_RETRIES
from instruments.eload import Chroma63200
from instruments.errors import InstrumentReportedError, MalformedReply, OutOfRating


def test_modes_levels_and_load_switch(expected_protocol):
    with expected_protocol(
        Chroma63200,
        [
            (b"MODE CCH\n", None),
            (b"CURR:STAT:L1 125.250\n", None),
            (b"RES:STAT:L1 4.700\n", None),
            (b"POW:STAT:L1 5000.0\n", None),
            (b"LOAD ON\n", None),
            (b"LOAD OFF\n", None),
            (b"LOAD:PROT:CLE\n", None),
            (b"MODE?\n", b"CCH\n"),
            (b"LOAD?\n", b"0\n"),
        ],
    ) as load:
        load.set_mode("CCH")
        load.set_current(125.25)
        load.set_resistance(4.7)
        load.set_power(5000)
        load.load_on()
        load.load_off()
        load.clear_protection()
        assert load.mode == "CCH"
        assert load.load_enabled() is False


def test_protection_programming_and_status(expected_protocol):
    with expected_protocol(
        Chroma63200,
        [
            (b"CURR:PROT 200.000\n", None),
            (b"POW:PROT 8000.0\n", None),
            (b"SYST:ERR?\n", b'-221,"Settings conflict"\n'),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b"LOAD:PROT?\n", b"12\n"),
            (b"MEAS:CURR?\n", b"99.95\n"),
        ],
    ) as load:
        with pytest.raises(InstrumentReportedError, match="Settings conflict"):
            load.program_protection(ocp_a=200, opp_w=8000)
        protection = load.protection()
        assert protection.tripped and protection.reasons == ["over-current", "over-power"]
        assert load.measure_current() == 99.95


def test_unknown_mode_and_rating_are_refused_before_sending(expected_protocol):
    with expected_protocol(Chroma63200, [], model="63206A-1200-200") as load:
        with pytest.raises(OutOfRating, match="CCX"):
            load.set_mode("CCX")
        with pytest.raises(OutOfRating, match="current_setpoint_a"):
            load.set_current(201)


def test_malformed_protection_reply(expected_protocol):
    exchange = [(b"LOAD:PROT?\n", b"OT\n")] * (1 + READ_RETRIES)
    with (
        expected_protocol(Chroma63200, exchange) as load,
        pytest.raises(MalformedReply, match="asked 3 times"),
    ):
        load.protection()
