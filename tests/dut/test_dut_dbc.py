"""dbc/drive.dbc: loads, every message round-trips, every message documents its PGN, SA and source."""

import re
from pathlib import Path

import cantools
import pytest

from hil.dut.dbc import DRIVE_DBC_PATH, load_drive_dbc
from hil.dut.j1939 import compose_id, parse_id

DB = load_drive_dbc()


def _mid_value(signal: cantools.database.can.Signal) -> float:
    """A value inside the signal's range that its scale can represent exactly."""
    low = signal.minimum if signal.minimum is not None else signal.offset
    high = signal.maximum if signal.maximum is not None else low
    raw = round(((low + high) / 2 - signal.offset) / signal.scale)
    return raw * signal.scale + signal.offset


@pytest.mark.parametrize("message", DB.messages, ids=lambda m: m.name)
def test_every_message_round_trips(message: cantools.database.can.Message) -> None:
    values = {s.name: _mid_value(s) for s in message.signals}
    data = message.encode(values)
    assert len(data) == message.length == 8
    decoded = message.decode(data, decode_choices=False)
    for signal in message.signals:
        assert decoded[signal.name] == pytest.approx(values[signal.name], abs=signal.scale / 2), signal.name


@pytest.mark.parametrize("message", DB.messages, ids=lambda m: m.name)
def test_every_message_documents_pgn_source_rate_and_tag(message: cantools.database.can.Message) -> None:
    comment = message.comment or ""
    pgn = re.search(r"PGN (\d+)", comment)
    source = re.search(r"SA 0x([0-9A-F]{2})|(0x[0-9A-F]{2}) -> ", comment)
    assert pgn and source, f"{message.name}: comment must give 'PGN <n>' and 'SA 0x..': {comment!r}"
    assert re.search(r"\[[SRE][]:]", comment), f"{message.name}: comment needs a source tag [S]/[R]/[E]"
    assert message.is_extended_frame
    ident = parse_id(message.frame_id)
    assert ident.pgn == int(pgn.group(1)), f"{message.name}: id 0x{message.frame_id:08X} is not PGN {pgn[1]}"
    sa = int(source.group(1) or source.group(2)[2:], 16)
    assert ident.source_address == sa, (
        f"{message.name}: id 0x{message.frame_id:08X} is not from SA 0x{sa:02X}"
    )
    assert message.cycle_time, f"{message.name}: GenMsgCycleTime missing"


def test_eec1_layout_follows_j1939_71() -> None:
    # speed 0.125 rpm/bit in bytes 4-5, actual torque 1 %/bit -125 in byte 3 [S: reference §5.2]
    eec1 = DB.get_message_by_name("EEC1")
    assert eec1.frame_id == compose_id(3, 61444, 0x00)
    data = eec1.encode(
        {
            "EngineTorqueMode": 0,
            "DriversDemandPercentTorque": 0,
            "ActualPercentTorque": 10,
            "EngineSpeed": 1500,
            "SrcAddrOfControllingDevice": 0x27,
            "EngineStarterMode": 0,
            "EngineDemandPercentTorque": 0,
        }
    )
    assert data == bytes.fromhex("007D87E02E27007D")


def test_dm1_signals_split_the_spn_as_j1939_73() -> None:
    decoded = DB.decode_message(0x18FECA00, bytes.fromhex("10FF00F0E302FFFF"))
    spn = decoded["DTC1_SPN_Low"] + 65536 * decoded["DTC1_SPN_High"]
    assert (spn, decoded["DTC1_FMI"], decoded["DTC1_OccurrenceCount"]) == (520192, 3, 2)


def test_missing_dbc_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.dbc"
    with pytest.raises(FileNotFoundError, match=r"nope\.dbc"):
        load_drive_dbc(missing)


def test_default_path_is_in_the_repository() -> None:
    assert DRIVE_DBC_PATH.parts[-2:] == ("dbc", "drive.dbc")
