"""Instrument replies with garbage: every parser of the drivers gives a result or an InstrumentError
naming the instrument and the command (MalformedReply), never a ValueError or IndexError traceback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import pyvisa
from hypothesis import given
from hypothesis import strategies as st
from pyvisa import constants as vc

from instruments.errors import InstrumentError, InstrumentTimeout, MalformedReply
from instruments.registry import DRIVERS
from tests.hostile.conftest import HOSTILE


class GarbageResource:
    """A pyvisa message-based resource whose every reply is ``reply`` (bytes), decoded as pyvisa
    decodes it: ASCII, the read termination stripped; read byte by byte after a written query, a
    read past the reply's end timing out as a socket's would."""

    timeout = 2000.0
    encoding = "ascii"
    read_termination: str | None = "\n"

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.commands: list[str] = []
        self._unread = b""

    def write(self, command: str) -> int:
        self.commands.append(command)
        if command.endswith("?"):
            self._unread = self.reply
        return len(command)

    def query(self, command: str) -> str:
        self.commands.append(command)
        return self.reply.decode(self.encoding).removesuffix("\n")

    def read_bytes(self, count: int, chunk_size: int | None = None) -> bytes:
        if len(self._unread) < count:
            raise pyvisa.VisaIOError(vc.StatusCode.error_timeout)
        out, self._unread = self._unread[:count], self._unread[count:]
        return out

    def close(self) -> None:
        pass


def _driver(name: str, reply: bytes) -> tuple[Any, GarbageResource]:
    resource = GarbageResource(reply)
    cls = DRIVERS[name]
    return cls(resource, name="dut-bench-x", resource_name="TCPIP0::10.0.0.9::5025::SOCKET"), resource


# each driver's reads: what a reply to any of them may break
READS: list[tuple[str, str, tuple[Any, ...]]] = (
    [
        ("itech.it6000c", "measure_voltage", ()),
        ("itech.it6000c", "output_enabled", ()),
        ("itech.it6000c", "protection", ()),
        ("chroma.87001", "measure_voltages", ()),
        ("chroma.87001", "outputs_enabled", ()),
        ("chroma.63200", "measure_current", ()),
        ("chroma.63200", "protection", ()),
        ("magtrol.dsp7000", "read", ()),
        ("yokogawa.wt5000", "read_numeric", ([("URMS", 1), ("IRMS", 1)],)),
        ("yokogawa.wt5000", "read_harmonics", ("UK", 1, 5)),
        ("yokogawa.wt5000", "wait_complete", ()),
        ("iet.prs202", "resistance", (1,)),
        ("keysight.34980a", "inserted", ()),
    ]
    + [(name, "identify", ()) for name in DRIVERS]
    + [(name, "check_errors", ()) for name in DRIVERS]
)

TRICKY = [
    b"",
    b"nan",
    b"NAN,NAN",
    b"1e999",
    b"-inf",
    b"1_000",
    b"0x10",
    b"\xff\xfe",
    b"caf\xc3\xa9",
    b"1" * 5000,
    b"1" * 5000 + b',"x"',
    b'-100,"unterminated',
    b"S1500T",
    b"S-0.0T0.0X",
    b"ON,OFF,2",
    b",,,",
    b"a,b,c,d",
    b"a,,c,d",
    b"#",
    b"#0",
    b"#9",
    b"#15abc",
    b"#\xff",
    b"#210" + b"\x00" * 3,
    b"0123456789",
    b"9999999999",
    b"\x00",
]
REPLIES = st.sampled_from(TRICKY) | st.binary(max_size=64) | st.text(max_size=64).map(lambda t: t.encode())


def _call(driver: Any, method: str, args: tuple[Any, ...]) -> None:
    try:
        getattr(driver, method)(*args)
    except MalformedReply as exc:
        assert exc.instrument == "dut-bench-x"
        assert "dut-bench-x (TCPIP0::10.0.0.9::5025::SOCKET)" in str(exc)
    except InstrumentError as exc:
        assert exc.instrument == "dut-bench-x"  # an error queue read as entries, which it names


@pytest.mark.parametrize(("driver", "method", "args"), READS, ids=[f"{d}.{m}" for d, m, _ in READS])
def test_a_tricky_reply_to_a_read_is_an_instrument_error(driver, method, args) -> None:
    for reply in TRICKY:
        instrument, _ = _driver(driver, reply)
        _call(instrument, method, args)


@HOSTILE
@given(read=st.sampled_from(READS), reply=REPLIES)
def test_any_reply_to_any_read_is_a_value_or_an_instrument_error(read, reply) -> None:
    driver, method, args = read
    instrument, _ = _driver(driver, reply)
    _call(instrument, method, args)


@HOSTILE
@given(reply=REPLIES, count=st.none() | st.integers(0, 4))
def test_query_value_and_query_floats_name_the_command(reply, count) -> None:
    instrument, _ = _driver("itech.it6000c", reply)
    for call in (
        lambda: instrument.query_value("MEAS:VOLT?"),
        lambda: instrument.query_floats("MEAS:X?", count),
    ):
        try:
            call()
        except MalformedReply as exc:
            assert "MEAS:" in str(exc) and "dut-bench-x" in str(exc)


@HOSTILE
@given(reply=REPLIES | st.binary(max_size=16).map(lambda b: b"#1" + bytes([48 + len(b) % 10]) + b))
def test_a_garbage_block_names_the_command(reply) -> None:
    instrument, _ = _driver("yokogawa.wt5000", reply)
    try:
        block = instrument.query_block(":WAV:SEND?", "f")
    except (MalformedReply, InstrumentTimeout) as exc:  # or cut short: waiting for what the header promised
        assert "':WAV:SEND?'" in str(exc) and "dut-bench-x" in str(exc)
    else:
        assert isinstance(block, np.ndarray)


def test_a_non_ascii_reply_is_a_malformed_reply_naming_the_command() -> None:
    instrument, _ = _driver("itech.it6000c", b"12.5\xb0")
    with pytest.raises(MalformedReply, match=r"reply to 'MEAS:VOLT\?' is not ASCII"):
        instrument.measure_voltage()


def test_an_error_code_of_thousands_of_digits_is_a_malformed_reply() -> None:
    instrument, _ = _driver("itech.it6000c", b"1" * 5000 + b',"x"')
    with pytest.raises(MalformedReply, match="SYST:ERR"):
        instrument.check_errors()
