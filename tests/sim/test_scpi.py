"""The SCPI engine on its own: header forms, chains, parameters, error queue, 488.2 commons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.scpi import Call, ScpiEngine, ScpiError


class Box:
    def __init__(self) -> None:
        self.voltage = 0.0
        self.channels: dict[int, float] = {}
        self.item: dict[int, str] = {}
        self.resets = 0
        self.log: list[tuple[str, str, list[str], int]] = []


def engine() -> tuple[ScpiEngine, Box]:
    box = Box()

    def reset() -> None:
        box.resets += 1

    e = ScpiEngine("ACME,X1,SN1,1.0", reset, lambda *record: box.log.append(record))

    def set_voltage(call: Call) -> None:
        box.voltage = call.number(0, "V", (0.0, 800.0))

    def set_channels(call: Call) -> None:
        for channel in call.channels(1, 24):
            box.channels[channel] = call.number(0, "V", (0.0, 5.0))

    def set_item(call: Call) -> None:
        box.item[call.suffix] = call.choice(0, ("URMS", "IRMS"))

    def boom(call: Call) -> None:
        raise RuntimeError("handler bug")

    e.add("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", set_voltage, lambda _: f"{box.voltage:g}")
    e.add("[SOURce:]CURRent:LIMit", lambda call: None)
    e.add("CELL:VOLTage", set_channels)
    e.add(":NUMeric[:NORMal]:ITEM<n>", set_item, lambda call: box.item.get(call.suffix, "URMS"))
    e.add("OUTPut[:STATe]", lambda call: call.boolean(0))
    e.add("BOOM", boom)
    return e, box


def errors(e: ScpiEngine) -> list[str]:
    found = []
    while (entry := e.next_error()) != '0,"No error"':
        found.append(entry)
    return found


@pytest.mark.parametrize(
    "command",
    [
        "VOLT 12.5",
        "volt 12.5",
        "SOUR:VOLT 12.5",
        "SOURce:VOLTage:LEVel:IMMediate:AMPLitude 12.5",
        ":sour:volt:lev 12.5",
        "VOLTAGE 12.5V",
        "VOLT 12500mV",
        "Sour:Volt:Imm 1.25E1",
    ],
)
def test_short_long_optional_and_case_forms_reach_one_handler(command: str) -> None:
    e, box = engine()
    assert e.execute(command) is None
    assert box.voltage == pytest.approx(12.5)
    assert errors(e) == []
    assert box.log[-1][1] == "SOUR:VOLT"


@given(
    st.lists(st.sampled_from(["SOUR", "SOURCE", "sour", "Source"]), max_size=1),
    st.sampled_from(["VOLT", "VOLTAGE", "volt", "Voltage"]),
    st.lists(st.sampled_from(["LEV", "LEVEL", "lev"]), max_size=1),
)
def test_any_spelling_of_the_nodes_matches(root: list[str], voltage: str, level: list[str]) -> None:
    e, box = engine()
    e.execute(":".join([*root, voltage, *level]) + " 3")
    assert box.voltage == 3.0 and errors(e) == []


def test_partial_mnemonics_are_undefined_headers() -> None:
    e, box = engine()
    e.execute("VOLTA 3")
    assert errors(e) == ['-113,"Undefined header"']
    assert box.voltage == 0.0


def test_chain_continues_the_path_and_falls_back_to_root() -> None:
    e, box = engine()
    assert e.execute("SOUR:VOLT 5;CURR:LIM 2;:VOLT?;SOUR:VOLT?") == b"5;5"
    assert errors(e) == []
    assert [record[1] for record in box.log] == ["SOUR:VOLT", "SOUR:CURR:LIM", "SOUR:VOLT?", "SOUR:VOLT?"]
    assert [record[0] for record in box.log][2] == ":VOLT?"


def test_out_of_range_is_222_and_not_applied() -> None:
    e, box = engine()
    e.execute("VOLT 10;VOLT 900")
    assert box.voltage == 10.0
    assert errors(e) == ['-222,"Data out of range;900 is outside [0, 800]"']


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("VOLT", -109),
        ("VOLT abc", -104),
        ("VOLT 5A", -131),
        ("OUTP MAYBE", -224),
        ("NOPE", -113),
        ("VOLT (1", -102),
        ("BOOM", -300),
        (":NUM:ITEM2 WATTS", -224),
    ],
)
def test_error_codes(command: str, code: int) -> None:
    e, box = engine()
    e.execute(command)
    assert [int(entry.split(",")[0]) for entry in errors(e)] == [code]
    assert box.log[-1][3] == code


def test_channel_lists() -> None:
    e, box = engine()
    e.execute("CELL:VOLT 3.3,(@1:3);CELL:VOLT 3.4,(@5);CELL:VOLT 3.5,(@7,9,11)")
    assert box.channels == {1: 3.3, 2: 3.3, 3: 3.3, 5: 3.4, 7: 3.5, 9: 3.5, 11: 3.5}
    e.execute("CELL:VOLT 3.6,(@25)")
    assert errors(e) == ['-222,"Data out of range;channel 25 is not in 1..24"']


def test_numeric_suffix_and_header_normalisation() -> None:
    e, box = engine()
    e.execute(":NUM:NORM:ITEM3 IRMS;:NUMERIC:ITEM URMS")
    assert box.item == {3: "IRMS", 1: "URMS"}
    assert e.execute(":NUM:ITEM3?") == b"IRMS"
    assert [record[1] for record in box.log] == ["NUM:ITEM3", "NUM:ITEM1", "NUM:ITEM3?"]


def test_queue_overflow_keeps_32_entries_the_last_being_350() -> None:
    e, _ = engine()
    for _ in range(40):
        e.execute("NOPE")
    assert e.execute("SYST:ERR:COUN?") == b"32"
    found = errors(e)
    assert len(found) == 32
    assert found[-1] == '-350,"Queue overflow"'
    assert found[0] == '-113,"Undefined header"'


def test_common_commands() -> None:
    e, box = engine()
    assert e.execute("*IDN?") == b"ACME,X1,SN1,1.0"
    assert e.execute("*OPC?") == b"1"
    e.execute("*RST")
    assert box.resets == 1
    e.execute("NOPE;VOLT 900")
    assert int(e.execute("*STB?") or b"0") & 0x04  # error available
    assert int(e.execute("*ESR?") or b"0") == 0x20 | 0x10  # command and execution error
    assert e.execute("*ESR?") == b"0"
    e.execute("*CLS")
    assert e.execute("SYST:ERR?") == b'0,"No error"'
    assert e.execute("SYSTem:ERRor:NEXT?") == b'0,"No error"'


def test_replies_of_a_chain_are_joined_and_commons_keep_the_path() -> None:
    e, _ = engine()
    assert e.execute("SOUR:VOLT 7;*OPC?;VOLT?") == b"1;7"


def test_scpi_error_text() -> None:
    assert str(ScpiError(-222, "x")) == '-222,"Data out of range;x"'
