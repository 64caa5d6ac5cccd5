"""Chroma 63200A: modes with their range letters, static levels, protection bits, and no trip level to
program (the 63200A's OCP/OPP commands are test modes)."""

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
            (b"MODE CVL\n", None),
            (b"MODE CRM\n", None),
            (b"RES:STAT:L1 4.700\n", None),
            (b"MODE CPM\n", None),
            (b"POW:STAT:L1 5000.0\n", None),
            (b"LOAD ON\n", None),
            (b"LOAD OFF\n", None),
            (b"LOAD:PROT:CLE\n", None),
            (b"MODE?\n", b"CPM\n"),
            # the 63200A answers LOAD? with ON or OFF (Chroma's own driver reads it so)
            (b"LOAD?\n", b"OFF\n"),
            (b"LOAD?\n", b"ON\n"),
        ],
    ) as load:
        load.set_mode("CCH")
        load.set_current(125.25)
        load.set_mode("CVL")
        load.set_mode("CRM")
        load.set_resistance(4.7)
        load.set_mode("CPM")
        load.set_power(5000)
        load.load_on()
        load.load_off()
        load.clear_protection()
        assert load.mode == "CPM"
        assert load.load_enabled() is False
        assert load.load_enabled() is True


def test_there_is_no_trip_level_to_program(expected_protocol):
    """An envelope at the 63206A-1200-240's rating is held by the load itself: nothing is sent. A
    tighter one is refused, naming why, and nothing is sent either."""
    with expected_protocol(Chroma63200, [(b"LOAD:PROT?\n", b"268\n"), (b"MEAS:CURR?\n", b"99.95\n")]) as load:
        load.program_protection(ocp_a=240, opp_w=6000)
        with pytest.raises(OutOfRating, match=r"ocp_a=200 cannot be held.*test modes"):
            load.program_protection(ocp_a=200, opp_w=6000)
        with pytest.raises(OutOfRating, match=r"opp_w=5000 cannot be held"):
            load.program_protection(ocp_a=240, opp_w=5000)
        protection = load.protection()
        assert protection.tripped
        assert protection.reasons == ["over-current", "over-power", "remote-inhibit"]
        assert load.measure_current() == 99.95


def test_a_refused_command_is_named_with_the_instruments_own_error(expected_protocol):
    with expected_protocol(
        Chroma63200,
        [
            (b"CURR:PROT 200\n", None),
            (b"SYST:ERR?\n", b'-113,"Undefined header"\n'),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
        ],
    ) as load:
        load.write("CURR:PROT 200")
        with pytest.raises(
            InstrumentReportedError, match=r"after 'CURR:PROT 200': -113,\"Undefined header\""
        ):
            load.check_errors()


def test_unknown_mode_and_rating_are_refused_before_sending(expected_protocol):
    with expected_protocol(Chroma63200, []) as load:
        for mode in ("CV", "CC", "CCX"):
            with pytest.raises(OutOfRating, match=mode):
                load.set_mode(mode)
        with pytest.raises(OutOfRating, match="current_setpoint_a"):
            load.set_current(241)
        with pytest.raises(OutOfRating, match="power_setpoint_w"):
            load.set_power(6001)
    with pytest.raises(ValueError, match="no model '63206A-1200-200'"):
        Chroma63200(None, name="eload", resource_name="none", model="63206A-1200-200")


def test_malformed_protection_reply(expected_protocol):
    exchange = [(b"LOAD:PROT?\n", b"OT\n")] * (1 + READ_RETRIES)
    with (
        expected_protocol(Chroma63200, exchange) as load,
        pytest.raises(MalformedReply, match="asked 3 times"),
    ):
        load.protection()
