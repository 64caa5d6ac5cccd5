"""IT6000C: the exact bytes on the wire and the parsing of replies."""

from __future__ import annotations

import time

import pytest

from instruments.base import READ_RETRIES
from instruments.errors import InstrumentReportedError, InstrumentTimeout, MalformedReply, OutOfRating
from instruments.supply import IT6000C


def test_setters_send_exact_commands(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT 600.000\n", None),
            # the current limits are taken in CV priority only: FUNC VOLT goes first
            (b"FUNC VOLT\n", None),
            (b"CURR:LIM 120.500\n", None),
            (b"FUNC VOLT\n", None),
            (b"CURR:LIM:NEG -80.000\n", None),
            # a time in seconds over the 808 V range: 500 V/s is 1.616 s
            (b"VOLT:SLEW 1.616000\n", None),
            (b"OUTP ON\n", None),
            (b"OUTP OFF\n", None),
            (b"OUTP:PROT:CLE\n", None),
        ],
    ) as supply:
        supply.set_voltage(600)
        supply.set_current_limit(120.5)
        supply.set_sink_current_limit(80)
        supply.set_slew(500)
        supply.output_on()
        supply.output_off()
        supply.clear_protection()


def test_measurements_parse_replies(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"MEAS:VOLT?\n", b"5.99870E+02\n"),
            (b"MEAS:CURR?\n", b"-12.5\n"),
            (b"MEAS:POW?\n", b"-7498.4\n"),
            (b"OUTP?\n", b"1\n"),
            (b"STAT:QUES:COND?\n", b"1\n"),
            (b"CURR:LIM:NEG?\n", b"-80.0\n"),
        ],
    ) as supply:
        assert supply.measure_voltage() == pytest.approx(599.87)
        assert supply.measure_current() == -12.5
        assert supply.measure_power() == -7498.4
        assert supply.output_enabled() is True
        protection = supply.protection()
        assert protection.over_voltage and not protection.over_current and protection.tripped
        assert supply.sink_current_limit_a == 80.0


def test_protection_programming_reads_the_error_queue(expected_protocol):
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT:PROT 700.000\n", None),
            (b"VOLT:PROT:STAT ON\n", None),
            (b"CURR:PROT 200.000\n", None),
            (b"CURR:PROT:STAT ON\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
        ],
    ) as supply:
        supply.program_protection(ovp_v=700, ocp_a=200)


def test_error_queue_entries_are_raised_with_the_command(expected_protocol):
    with (
        expected_protocol(
            IT6000C,
            [
                (b"VOLT:PROT 700.000\n", None),
                (b"VOLT:PROT:STAT ON\n", None),
                (b"CURR:PROT 200.000\n", None),
                (b"CURR:PROT:STAT ON\n", None),
                (b"SYST:ERR?\n", b'-222,"Data out of range"\n'),
                (b"SYST:ERR?\n", b'-113,"Undefined header"\n'),
                (b"SYST:ERR?\n", b'+0,"No error"\n'),
            ],
        ) as supply,
        pytest.raises(InstrumentReportedError) as caught,
    ):
        supply.program_protection(ovp_v=700, ocp_a=200)
    assert caught.value.entries == [(-222, "Data out of range"), (-113, "Undefined header")]
    assert "CURR:PROT:STAT ON" in str(caught.value)
    assert "dut-under-test" in str(caught.value)


@pytest.mark.parametrize(
    ("bits", "active"),
    [
        (0, ()),
        (1, ("over_voltage",)),
        (2, ("over_current",)),
        (4, ("sink_over_current",)),
        (8 | 16, ("over_power", "sink_over_power")),
        (32, ("under_voltage",)),
        (64 | 4096, ("over_temperature", "protection_shutdown")),
        (
            128 | 256 | 512 | 1024 | 2048,
            ("under_current", "sense_fault", "current_share_fault", "output_reversed", "inhibited"),
        ),
        (8192 | 16384, ("loop_oscillation", "internal_fault")),
    ],
)
def test_every_questionable_bit_is_reported(expected_protocol, bits, active):
    with expected_protocol(IT6000C, [(b"STAT:QUES:COND?\n", f"{bits}\n".encode())]) as supply:
        protection = supply.protection()
    assert protection.active == active
    assert protection.tripped is bool(active)


@pytest.mark.parametrize(
    ("command", "reply", "call", "asked"),
    [
        # reads of a value are asked again before a garbled reply is an error; the error queue and the
        # identity are read once
        (b"MEAS:VOLT?\n", b"six hundred\n", lambda s: s.measure_voltage(), 1 + READ_RETRIES),
        (b"OUTP?\n", b"MAYBE\n", lambda s: s.output_enabled(), 1 + READ_RETRIES),
        (b"STAT:QUES:COND?\n", b"1.5e\n", lambda s: s.protection(), 1 + READ_RETRIES),
        (b"SYST:ERR?\n", b"-222 Data out of range\n", lambda s: s.check_errors(), 1),
        (b"*IDN?\n", b"ITECH,IT6054C\n", lambda s: s.identify(), 1),
    ],
)
def test_malformed_replies_name_the_command(expected_protocol, command, reply, call, asked):
    with (
        expected_protocol(IT6000C, [(command, reply)] * asked) as supply,
        pytest.raises(MalformedReply) as caught,
    ):
        call(supply)
    assert command.decode().strip() in str(caught.value)


def test_timeout_names_instrument_resource_and_last_command(expected_protocol):
    with (
        expected_protocol(IT6000C, [(b"MEAS:VOLT?\n", None)] * (1 + READ_RETRIES)) as supply,
        pytest.raises(InstrumentTimeout) as caught,
    ):
        supply.measure_voltage()
    message = str(caught.value)
    assert "dut-under-test" in message and "TCPIP0::127.0.0.1::" in message and "'MEAS:VOLT?'" in message
    assert "(asked 3 times)" in message


def test_values_outside_the_model_rating_send_nothing(expected_protocol):
    with expected_protocol(IT6000C, [], model="IT6054C-800-225") as supply:
        with pytest.raises(OutOfRating):
            supply.set_voltage(808.5)
        with pytest.raises(OutOfRating):
            supply.set_current_limit(227.5)  # not even the FUNC VOLT before it
        with pytest.raises(OutOfRating):
            supply.sink_current_limit_a = 300
        with pytest.raises(OutOfRating):
            supply.program_protection(ovp_v=900, ocp_a=10)
        with pytest.raises(OutOfRating):
            supply.set_slew(9000)


def test_a_model_without_confirmed_figures_is_refused():
    with pytest.raises(ValueError, match="no model 'IT6054C-800-340'"):
        IT6000C(None, name="supply", resource_name="x", model="IT6054C-800-340")


def test_the_unverified_commands_are_named():
    assert IT6000C.UNVERIFIED == ("VOLT:SLEW",)


def test_identity_in_the_ieee_four_fields(expected_protocol):
    with expected_protocol(
        IT6000C, [(b"*IDN?\n", b"ITECH Ltd.,IT6054C-800-225,6036123456,1.02-1.05\n")]
    ) as supply:
        identity = supply.identify()
    assert (identity.manufacturer, identity.model, identity.serial, identity.firmware) == (
        "ITECH Ltd.",
        "IT6054C-800-225",
        "6036123456",
        "1.02-1.05",
    )


def test_a_reply_to_an_exchange_cut_short_does_not_answer_the_next(expected_protocol):
    """Ctrl-C while a query waits for its reply: the reply still comes, and the next exchange (the
    safe state's, after a Stop) must read its own, not that one."""
    with expected_protocol(
        IT6000C, [(b"MEAS:VOLT?\n", b"612.5\n"), (b"OUTP OFF\n", None), (b"SYST:ERR?\n", b'0,"No error"\n')]
    ) as supply:
        resource = supply._resource
        read = resource.read

        def interrupted(*args, **kwargs):
            # the reply is on its way when the interrupt comes
            resource.read = read
            time.sleep(0.05)
            raise KeyboardInterrupt

        resource.read = interrupted
        with pytest.raises(KeyboardInterrupt):
            supply.measure_voltage()
        supply.output_off()
        supply.check_errors()  # its own reply, not the 612.5 V that came late
