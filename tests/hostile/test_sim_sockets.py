"""Raw bytes into the simulated bench's sockets: no newline for a megabyte, invalid UTF-8, hundreds
of connections, a log file that cannot be written. The bench keeps answering ``*IDN?``."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim.command_log
from sim.bench import SimulatedBench
from sim.command_log import CommandLog
from sim.server import MAX_CONNECTIONS, MAX_LINE
from sim.service import start
from tests.hostile.conftest import HOSTILE
from tests.sim.conftest import instruments

CAN = {"interface": "virtual", "channel": "hostile"}


@pytest.fixture(scope="module")
def bench() -> Iterator[SimulatedBench]:
    sim_bench = start(instruments(), CAN, {"seed": 3})
    yield sim_bench
    sim_bench.stop()


def _port(bench: SimulatedBench, name: str) -> int:
    return bench.servers[name].port


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.settimeout(5)
    return connection


def _ask(connection: socket.socket, line: bytes, terminator: bytes = b"\n") -> bytes:
    connection.sendall(line + b"\n")
    reply = b""
    while not reply.endswith(terminator):
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before a reply to {line!r} (got {reply!r})")
        reply += chunk
    return reply.removesuffix(terminator).removesuffix(b"\r")


def _answers_identity(bench: SimulatedBench, name: str = "supply") -> None:
    emulator = bench.emulators[name]
    with _connect(_port(bench, name)) as fresh:
        assert _ask(fresh, b"*IDN?", emulator.terminator).decode() == emulator.identity


def _closed_by_peer(connection: socket.socket, within_s: float) -> bool:
    connection.settimeout(within_s)
    try:
        while connection.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


def test_a_megabyte_without_a_newline_closes_that_connection_only(bench) -> None:
    with _connect(_port(bench, "supply")) as other:
        started = time.monotonic()
        with _connect(_port(bench, "supply")) as hostile:
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                for _ in range(16):
                    hostile.sendall(b"A" * 65536)
            assert _closed_by_peer(hostile, within_s=5)
        assert time.monotonic() - started < 5
        assert _ask(other, b"*IDN?").decode() == bench.emulators["supply"].identity
    _answers_identity(bench)


def test_a_line_just_within_the_cap_is_answered_and_one_above_closes(bench) -> None:
    with _connect(_port(bench, "supply")) as connection:
        # an undefined header of MAX_LINE bytes: refused the way the instrument refuses it
        connection.sendall(b"X" * (MAX_LINE - 1) + b"\n")
        assert _ask(connection, b"SYST:ERR?").startswith(b"-113,")
        connection.sendall(b"X" * (MAX_LINE + 1) + b"\n")
        assert _closed_by_peer(connection, within_s=5)
    _answers_identity(bench)


def test_many_short_lines_in_one_megabyte_cost_no_rescan(bench) -> None:
    """A megabyte of ``*CLS`` lines in large chunks: each is found once, the connection answers."""
    with _connect(_port(bench, "supply")) as connection:
        started = time.monotonic()
        connection.sendall(b"*CLS\n" * 200_000)
        connection.settimeout(30)  # 200 000 commands to work through first, on a machine maybe busy
        assert _ask(connection, b"*IDN?").decode() == bench.emulators["supply"].identity
        assert time.monotonic() - started < 30


LINES = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b""))


@HOSTILE
@given(
    name=st.sampled_from([i["name"] for i in instruments()]), lines=st.lists(LINES, min_size=1, max_size=5)
)
def test_any_bytes_leave_every_instrument_answering(bench, name, lines) -> None:
    """Garbage, then ``*IDN?`` on the same connection: its answer comes (after any reply the
    garbage itself asked for)."""
    emulator = bench.emulators[name]
    with _connect(_port(bench, name)) as connection:
        connection.sendall(b"".join(line + b"\n" for line in lines) + b"*IDN?\n")
        received = b""
        identity = emulator.identity.encode() + emulator.terminator
        while identity not in received:
            chunk = connection.recv(65536)
            assert chunk, f"{name} closed the connection after {lines!r}"
            received += chunk


@HOSTILE
@given(line=st.text(max_size=80))
def test_any_text_into_an_emulator_is_a_reply_or_none_never_an_exception(bench, line) -> None:
    for emulator in bench.emulators.values():
        reply = emulator.handle(line)
        assert reply is None or isinstance(reply, bytes)


def test_invalid_utf8_in_an_argument_comes_back_escaped_in_the_error_queue(bench) -> None:
    with _connect(_port(bench, "supply")) as connection:
        connection.sendall(b"*CLS\nVOLT \xff\xfe\n")
        error = _ask(connection, b"SYST:ERR?")
        assert error.startswith(b"-104,") and b"\\xff" in error
        assert error.isascii()


def test_a_channel_list_of_a_billion_channels_is_refused_at_once(bench) -> None:
    with _connect(_port(bench, "cellsim")) as connection:
        started = time.monotonic()
        connection.sendall(b"*CLS\nSOUR:VOLT 3.3,(@1:999999999)\n")
        assert _ask(connection, b"SYST:ERR?").startswith(b"-222,")
        assert time.monotonic() - started < 2


def test_hundreds_of_connections_leave_the_bench_answering(bench, caplog) -> None:
    port = _port(bench, "supply")
    threads_before = threading.active_count()
    with _connect(port) as established:
        assert _ask(established, b"*IDN?")
        # earlier tests' connections are gone once their threads saw them close
        deadline = time.monotonic() + 5
        while len(bench.servers["supply"]._connections) > 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        flood: list[socket.socket] = []
        try:
            for _ in range(300):
                flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            # the established connection keeps its service whatever the flood does
            assert _ask(established, b"*IDN?").decode() == bench.emulators["supply"].identity
            # the listener closes every connection beyond the cap
            refused = sum(_closed_by_peer(c, within_s=0.05) for c in flood)
            assert refused == len(flood) - (MAX_CONNECTIONS - 1)
            assert threading.active_count() - threads_before <= MAX_CONNECTIONS
        finally:
            for connection in flood:
                connection.close()
        assert any("refusing more" in r.getMessage() for r in caplog.records)
        # once the flood is gone, a fresh connection is served again
        deadline = time.monotonic() + 5
        while True:
            try:
                _answers_identity(bench)
                break
            except (ConnectionError, OSError):
                assert time.monotonic() < deadline, "no fresh connection served after the flood"


def test_a_log_file_that_cannot_be_written_leaves_the_bench_answering(caplog) -> None:
    sim_bench = start(instruments(), {"interface": "virtual", "channel": "full"}, {"log": "/dev/full"})
    try:
        with _connect(sim_bench.servers["supply"].port) as connection:
            for _ in range(3):
                assert _ask(connection, b"*IDN?").decode() == sim_bench.emulators["supply"].identity
        failures = [r for r in caplog.records if "cannot be written" in r.getMessage()]
        assert len(failures) == 1
        assert [r["header"] for r in sim_bench.command_log()][-3:] == ["*IDN?"] * 3
    finally:
        sim_bench.stop()


def test_the_command_log_in_memory_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(sim.command_log, "IN_MEMORY", 100)
    log = CommandLog(time.monotonic())
    for n in range(1000):
        log.record("supply", f"VOLT {n}", "SOUR:VOLT", [str(n)])
    records = log.records()
    assert len(records) == 100 and records[-1]["args"] == ["999"] and log.dropped == 900


def test_the_command_log_with_a_file_keeps_all_there_and_little_in_memory(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(sim.command_log, "BESIDE_A_FILE", 10)
    path = tmp_path / "commands.jsonl"
    log = CommandLog(time.monotonic(), path)
    for n in range(1000):
        log.record("supply", f"VOLT {n}", "SOUR:VOLT", [str(n)])
    log.close()
    assert len(log._recent) == 10
    lines = path.read_text().splitlines()
    assert len(lines) == 1000 and json.loads(lines[-1])["args"] == ["999"]
    assert len(log.records()) == 1000
