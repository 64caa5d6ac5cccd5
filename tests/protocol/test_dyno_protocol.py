"""Magtrol DSP7000: CR-LF, not SCPI, the OD1 reading, the STAT alarm flags instead of an error queue."""

from __future__ import annotations

import pytest

from instruments.base import READ_RETRIES
from instruments.dyno import DSP7000
from instruments.errors import InstrumentReportedError, InstrumentTimeout, MalformedReply, OutOfRating


def test_commands_are_crlf_terminated(expected_protocol):
    with expected_protocol(
        DSP7000,
        [
            (b"N1,1500.0\r\n", None),
            (b"Q1,-250.50\r\n", None),
            (b"N1\r\n", None),  # free run releases speed mode as well as torque mode
            (b"Q1\r\n", None),
            (b"ALS1,7500\r\n", None),
            (b"ALT1,1200.00\r\n", None),
            (b"ALP1,250.00\r\n", None),
            (b"ALL1,1\r\n", None),
        ],
    ) as dyno:
        dyno.set_speed(1500)
        dyno.set_torque(-250.5)
        dyno.free_run()
        dyno.program_alarms(speed_rpm=7500, torque_nm=1200, power_kw=250)


@pytest.mark.parametrize(
    ("reply", "speed", "torque", "direction", "alarm"),
    [
        (b"S1500.0T12.34R\r\n", 1500.0, 12.34, "CW", False),
        (b"S 2400T-477.0L\r\n", -2400.0, -477.0, "CCW", False),
        (b"S7300.5T0.00A\r\n", 7300.5, 0.0, "CW", True),
    ],
)
def test_od1_parsing(expected_protocol, reply, speed, torque, direction, alarm):
    with expected_protocol(DSP7000, [(b"OD1\r\n", reply)]) as dyno:
        reading = dyno.read()
    assert (reading.speed_rpm, reading.torque_nm, reading.direction, reading.alarm) == (
        speed,
        torque,
        direction,
        alarm,
    )


@pytest.mark.parametrize("reply", [b"S1500T12.3X\r\n", b"1500,12.3\r\n", b"ST12R\r\n"])
def test_od1_malformed(expected_protocol, reply):
    with (
        expected_protocol(DSP7000, [(b"OD1\r\n", reply)] * (1 + READ_RETRIES)) as dyno,
        pytest.raises(MalformedReply, match=r"OD1.*\(asked 3 times\)"),
    ):
        dyno.read()


def test_out_of_rating_sends_nothing(expected_protocol):
    with expected_protocol(DSP7000, []) as dyno:
        with pytest.raises(OutOfRating):
            dyno.set_speed(9000)
        with pytest.raises(OutOfRating):
            dyno.set_torque(-1600)


def test_negative_alarm_level_is_refused(expected_protocol):
    with expected_protocol(DSP7000, []) as dyno, pytest.raises(OutOfRating, match="not a magnitude"):
        dyno.program_alarms(speed_rpm=7500, torque_nm=-1200, power_kw=250)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (b"00800000", '23,"speed alarm 1"'),
        (b"02000000", '25,"torque alarm 1"'),
        (b"08000000", '27,"power alarm 1"'),
        (b"40001000", '12,"temperature alarm 1"; 30,"global torque alarm"'),
    ],
)
def test_stat_alarm_flags_raise_naming_the_last_command(expected_protocol, flags, named):
    with (
        expected_protocol(DSP7000, [(b"Q1,10.00\r\n", None), (b"STAT\r\n", flags + b"\r\n")]) as dyno,
        pytest.raises(InstrumentReportedError) as raised,
    ):
        dyno.set_torque(10)
        dyno.check_errors()
    assert raised.value.detail == f"STAT alarm flags after 'Q1,10.00': {named}"


def test_stat_flags_that_are_no_alarm_pass(expected_protocol):
    # boards fitted (0-3, 5), ramps complete (18-21), the 6001/7000 mode input (22), channel 2's alarms
    with expected_protocol(DSP7000, [(b"STAT\r\n", b"817E002F\r\n")]) as dyno:
        dyno.check_errors()


def test_a_command_the_controller_does_not_know_times_out_naming_it(expected_protocol):
    with (
        expected_protocol(DSP7000, [(b"STAT\r\n", None)] * (1 + READ_RETRIES), timeout_ms=100) as dyno,
        pytest.raises(InstrumentTimeout) as raised,
    ):
        dyno.check_errors()  # a firmware without STAT answers nothing, and beeps I/O ERROR
    assert raised.value.detail == (
        "no reply within 100 ms to 'STAT': the DSP7000 does not answer a command it does not recognise "
        "(its front panel shows I/O ERROR) (asked 3 times)"
    )


@pytest.mark.parametrize(
    ("reply", "identity"),
    [
        (b"Magtrol,DSP7000,DSP7-20110417,7.02\r\n", ("Magtrol", "DSP7000", "DSP7-20110417", "7.02")),
        (
            b"MAGTROL DSP7000 REV 7.02\r\n",
            ("Magtrol", "MAGTROL DSP7000 REV 7.02", "not reported", "MAGTROL DSP7000 REV 7.02"),
        ),
    ],
)
def test_identity_in_either_layout(expected_protocol, reply, identity):
    with expected_protocol(DSP7000, [(b"*IDN?\r\n", reply)]) as dyno:
        found = dyno.identify()
    assert (found.manufacturer, found.model, found.serial, found.firmware) == identity


def test_identity_of_another_instrument_is_refused(expected_protocol):
    with (
        expected_protocol(DSP7000, [(b"*IDN?\r\n", b"HEWLETT-PACKARD 6032A\r\n")]) as dyno,
        pytest.raises(MalformedReply, match="does not name Magtrol"),
    ):
        dyno.identify()
