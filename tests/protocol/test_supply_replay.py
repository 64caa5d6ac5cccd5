"""The IT6000C driver against exchanges of a real IT6054C-800-225, as someone else recorded them.

Source: VlasovLabTech/OpenBench-lab-control, docs/itech-it6054c-live-test-2026-08-13.md (a dated
log of a live unit) with the queries of its driver (src/openbench/drivers/itech_it6000c/supply.py)
and the register values of its test transport (tests/test_itech_it6000c.py), which reproduces that
unit's initial read-back. Replies are replayed as the unit sent them (LF-terminated, the log's
reported values).
"""

from __future__ import annotations

import pytest

from instruments.supply import IT6000C

LIVE_IDN = b"ITECH Electronics,IT6054C-800-225,ITECH-DEMO-0001,000.006.101,640.R,132.R\n"


def test_identity_of_the_live_unit(expected_protocol):
    with expected_protocol(IT6000C, [(b"*IDN?\n", LIVE_IDN)], model="IT6054C-800-225") as supply:
        identity = supply.identify()
    assert identity.manufacturer == "ITECH Electronics"
    assert identity.model == "IT6054C-800-225"
    assert identity.serial == "ITECH-DEMO-0001"
    assert identity.firmware == "000.006.101,640.R,132.R"


def test_initial_read_back_of_the_live_unit(expected_protocol):
    """The log's initial state: output off, CV at 4.00 V, CURR:LIM +2.31 A / -2.27251 A,
    questionable status 0."""
    with expected_protocol(
        IT6000C,
        [
            (b"OUTP?\n", b"0\n"),
            (b"VOLT?\n", b"4\n"),
            (b"CURR:LIM?\n", b"2.31\n"),
            (b"CURR:LIM:NEG?\n", b"-2.27251\n"),
            (b"STAT:QUES:COND?\n", b"0\n"),
        ],
        model="IT6054C-800-225",
    ) as supply:
        assert supply.output_enabled() is False
        assert supply.voltage_setpoint_v == 4.0
        assert supply.current_limit_a == 2.31
        assert supply.sink_current_limit_a == 2.27251
        assert not supply.protection().tripped


@pytest.mark.parametrize(
    ("voltage", "current", "power"),
    [
        # the log's sink steps with an external 12 V source: set 0, -2 and -4 A
        (b"11.9827", b"0.00123215", b"-0.0241145"),
        (b"11.9241", b"-1.99969", b"-23.8495"),
        (b"11.8643", b"-3.99986", b"-47.4584"),
    ],
)
def test_sink_measurements_of_the_live_unit(expected_protocol, voltage, current, power):
    with expected_protocol(
        IT6000C,
        [
            (b"MEAS:VOLT?\n", voltage + b"\n"),
            (b"MEAS:CURR?\n", current + b"\n"),
            (b"MEAS:POW?\n", power + b"\n"),
        ],
        model="IT6054C-800-225",
    ) as supply:
        assert supply.measure_voltage() == float(voltage)
        assert supply.measure_current() == float(current)
        assert supply.measure_power() == float(power)


def test_protection_writes_and_clear_as_the_live_driver_sends_them(expected_protocol):
    """The live driver's protection commands (VOLT:PROT, CURR:PROT and their :STAT, OUTP:PROT:CLE),
    then the questionable register clear again as the log's clear_protection checks it."""
    with expected_protocol(
        IT6000C,
        [
            (b"VOLT:PROT 12.800\n", None),
            (b"VOLT:PROT:STAT ON\n", None),
            (b"CURR:PROT 227.250\n", None),
            (b"CURR:PROT:STAT ON\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b"OUTP:PROT:CLE\n", None),
            (b"STAT:QUES:COND?\n", b"0\n"),
        ],
        model="IT6054C-800-225",
    ) as supply:
        supply.program_protection(ovp_v=12.8, ocp_a=227.25)
        supply.clear_protection()
        assert supply.protection().active == ()
