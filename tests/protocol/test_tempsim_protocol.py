"""IET Labs PRS-202: the 10-character resistance string of SOURce:DATA, open circuit, *ESR? errors."""

from __future__ import annotations

import math

import pytest

from instruments.errors import InstrumentReportedError, MalformedReply, OutOfRating
from instruments.tempsim import Prs202


def test_resistance_string_one_character_per_decade(expected_protocol):
    with expected_protocol(
        Prs202,
        [
            # 10 kΩ: the 10^4 Ω decade at 1, the unfitted 10^-1 Ω decade sent as 0
            (b"SOURce:DATA 0000100000\n", None),
            (b"*ESR?\n", b"0\n"),
            (b"SOURce:DATA 0000029480\n", None),  # 2948 Ω rounded from 2947.6 Ω
            (b"*ESR?\n", b"0\n"),
            (b"SOURce:DATA?\n", b"0000029480\n"),
        ],
    ) as prs:
        prs.set_resistance(1, 10_000)
        prs.set_resistance(1, 2947.6)
        assert prs.resistance(1) == 2948.0


def test_open_circuit_is_the_decade_above_the_most_significant(expected_protocol):
    with expected_protocol(
        Prs202,
        [
            (b"SOURce:DATA 0010000000\n", None),
            (b"*ESR?\n", b"0\n"),
            (b"SOURce:DATA?\n", b"0010000000\n"),
            (b"SOURce:DATA?\n", b"0020000000\n"),
        ],
    ) as prs:
        prs.open_circuit(1)
        assert math.isinf(prs.resistance(1))
        assert prs.resistance(1) == 0.0  # short circuit


def test_event_status_errors_are_raised_with_the_command(expected_protocol):
    with expected_protocol(
        Prs202,
        [(b"SOURce:DATA 0000100000\n", None), (b"*ESR?\n", b"48\n")],  # execution + command error
    ) as prs:
        with pytest.raises(InstrumentReportedError, match="SOURce:DATA 0000100000") as raised:
            prs.set_resistance(1, 10_000)
        assert [bit for bit, _ in raised.value.entries] == [4, 5]


def test_out_of_rating_and_channel_refused_before_sending(expected_protocol):
    with expected_protocol(Prs202, []) as prs:
        with pytest.raises(OutOfRating, match="resistance_ohm=1e\\+06"):
            prs.set_resistance(1, 1_000_000)
        with pytest.raises(OutOfRating, match="channel 2"):
            prs.set_resistance(2, 10_000)


def test_malformed_read_back(expected_protocol):
    with expected_protocol(Prs202, [(b"SOURce:DATA?\n", b"10k\n")]) as prs, pytest.raises(MalformedReply):
        prs.resistance(1)
