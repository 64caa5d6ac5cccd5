"""Raw-socket resources send each command at once (Nagle's algorithm off), as NI-VISA does, and read a
binary block whole, by its length, whatever bytes it holds."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pyvisa import constants

from instruments.analyzer import WT5000
from instruments.errors import MalformedReply
from instruments.supply import IT6000C


def test_a_command_then_a_query_is_not_held_for_the_peers_delayed_ack(expected_protocol):
    exchanges = [(b"VOLT 550.000\n", None), (b"MEAS:CURR?\n", b"12.5\n")] * 5
    with expected_protocol(IT6000C, exchanges) as supply:
        nodelay = supply._resource.get_visa_attribute(constants.VI_ATTR_TCPIP_NODELAY)
        assert nodelay == constants.VI_TRUE
        slowest = 0.0
        for _ in range(5):
            start = time.perf_counter()
            supply.set_voltage(550)
            assert supply.measure_current() == 12.5
            slowest = max(slowest, time.perf_counter() - start)
    # with Nagle on, the query waits for the ACK of the command, which the peer delays ~40 ms
    assert slowest < 0.02


def _block(payload: bytes, terminator: bytes = b"\n") -> bytes:
    length = str(len(payload)).encode()
    return b"#" + str(len(length)).encode() + length + payload + terminator


def test_a_binary_block_is_read_whole_though_its_bytes_hold_the_terminator(expected_protocol, monkeypatch):
    """Every byte of these floats is the line terminator: a read that stopped at each would take one
    read per byte (pyvisa's query_binary_values does on a socket), or end the block early."""
    payload = b"\n" * 40_000 + np.arange(1000, dtype="<f4").tobytes()
    expected = np.frombuffer(payload, dtype="<f4")
    exchanges = [(b":WAV:SEND?\n", _block(payload)), (b"*OPC?\n", b"1\n")]
    with expected_protocol(WT5000, exchanges) as analyzer:
        visalib = analyzer._resource.visalib
        reads = []
        read = visalib.read
        monkeypatch.setattr(
            visalib, "read", lambda session, count: reads.append(count) or read(session, count)
        )
        block = analyzer.query_block(":WAV:SEND?", "f")
        assert len(reads) <= 5, f"{len(reads)} reads for one block"
        assert analyzer.query("*OPC?") == "1", "the block's terminator was read with it"
    np.testing.assert_array_equal(block, expected)
    assert block.dtype == np.dtype("<f4")


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        (b'-113,"Undefined header"\n', r"starts b'-1', not a definite-length header"),
        (b"#0" + b"\0" * 8 + b"\n", "starts b'#0', not a definite-length header"),
        (b"#3x08" + b"\0" * 8 + b"\n", r"length field b'x08' is not a number"),
        (b"#16" + b"\0" * 6 + b"\n", "6 bytes is not a whole number of 'f'"),
        (_block(b"\0" * 8, b";"), r"8 bytes are followed by b';', not the terminator"),
    ],
)
def test_a_reply_that_is_not_a_definite_length_block_is_malformed(expected_protocol, reply, named):
    """Named as the command's reply, and what is left of it does not answer the next question."""
    exchanges = [(b":WAV:SEND?\n", reply), (b"*OPC?\n", b"1\n")]
    with expected_protocol(WT5000, exchanges) as analyzer:
        with pytest.raises(MalformedReply, match=rf"block reply to ':WAV:SEND\?': {named}"):
            analyzer.query_block(":WAV:SEND?", "f")
        assert analyzer.query("*OPC?") == "1"
