"""Keysight 34980A with the IFB-1 fault box: relay patterns for a resistance, connect last, read-back."""

from __future__ import annotations

import math

import pytest

from instruments.errors import InstrumentReportedError, OutOfRating
from instruments.isofault import Keysight34980A

NO_ERROR = (b"SYST:ERR?\n", b'+0,"No error"\n')


def test_insert_keeps_the_bits_then_shorts_the_rest_then_connects(expected_protocol):
    with expected_protocol(
        Keysight34980A,
        [
            # 268 kΩ = 20 kΩ + 248 kΩ: bits 8, 16, 32, 64, 128 kΩ kept (relays 1005..1009 open)
            (b"ROUTe:OPEN (@1005,1006,1007,1008,1009)\n", None),
            (b"ROUTe:CLOSe (@1002,1003,1004,1010,1011)\n", None),
            (b"ROUTe:CLOSe (@1001)\n", None),
            NO_ERROR,
            # 1.043 MΩ on HV-: every resistor kept, none shorted
            (b"ROUTe:OPEN (@1013,1014,1015,1016,1017,1018,1019,1020,1021,1022)\n", None),
            (b"ROUTe:CLOSe (@1012)\n", None),
            NO_ERROR,
            (b"ROUTe:OPEN (@1001)\n", None),
            NO_ERROR,
        ],
    ) as box:
        assert box.insert("hv_pos", 268_400) == 268_000
        assert box.insert("hv_neg", 1_043_000) == 1_043_000
        box.remove("hv_pos")


def test_link_load_and_open_all(expected_protocol):
    with expected_protocol(
        Keysight34980A,
        [
            (b"ROUTe:CLOSe (@1023)\n", None),
            NO_ERROR,
            (b"ROUTe:OPEN (@1023)\n", None),
            NO_ERROR,
            (b"ROUTe:OPEN:ALL\n", None),
        ],
    ) as box:
        box.set_link_load(True)
        box.set_link_load(False)
        box.open_all()


def test_inserted_reads_every_relay_of_the_fixture(expected_protocol):
    states = ["0"] * 23
    states[0] = "1"  # link load
    states[12] = "1"  # HV- connect (1012), no bit shorted: 1.043 MΩ
    query = (
        b"ROUTe:CLOSe? (@1023,1001,1002,1003,1004,1005,1006,1007,1008,1009,1010,1011,"
        b"1012,1013,1014,1015,1016,1017,1018,1019,1020,1021,1022)\n"
    )
    with expected_protocol(Keysight34980A, [(query, ",".join(states).encode() + b"\n")]) as box:
        inserted = box.inserted()
    assert inserted["link_load"] == 1.0
    assert math.isinf(inserted["hv_pos"])
    assert inserted["hv_neg"] == 1_043_000


def test_reported_error_names_the_command(expected_protocol):
    with (
        expected_protocol(
            Keysight34980A,
            [
                (b"ROUTe:CLOSe (@1023)\n", None),
                (b"SYST:ERR?\n", b'-241,"Hardware missing"\n'),
                NO_ERROR,
            ],
        ) as box,
        pytest.raises(InstrumentReportedError, match="Hardware missing"),
    ):
        box.set_link_load(True)


def test_below_the_fixture_and_unknown_side_refused_before_sending(expected_protocol):
    with expected_protocol(Keysight34980A, []) as box:
        with pytest.raises(OutOfRating, match="20000"):
            box.insert("hv_pos", 10_000)
        with pytest.raises(OutOfRating, match="side"):
            box.insert("chassis", 100_000)
