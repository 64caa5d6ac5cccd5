"""Magtrol DSP7000: CR-LF, not SCPI, and the OD1 reading."""

from __future__ import annotations

import pytest

from instruments.base import READ_RETRIES
from instruments.dyno import DSP7000
from instruments.errors import MalformedReply, OutOfRating


def test_commands_are_crlf_terminated(expected_protocol):
    with expected_protocol(
        DSP7000,
        [
            (b"N1,1500.0\r\n", None),
            (b"Q1,-250.50\r\n", None),
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
