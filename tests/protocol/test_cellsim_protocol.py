"""Chroma 87001: channel lists on the wire and multi-value replies."""

from __future__ import annotations

import pytest

from instruments.base import READ_RETRIES
from instruments.cellsim import Chroma87001
from instruments.errors import MalformedReply, OutOfRating


def test_single_and_all_channel_commands(expected_protocol):
    all_cells = ";".join(f":SOUR:VOLT {3.3 + i / 1000:.4f},(@{i + 1})" for i in range(12)).encode() + b"\n"
    with expected_protocol(
        Chroma87001,
        [
            (b"SOUR:VOLT 3.2850,(@5)\n", None),
            (all_cells, None),
            (b"SOUR:CURR:LIM 0.5000,(@1:12)\n", None),
            (b"SOUR:VOLT:PROT 4.3000,(@1:12)\n", None),
            (b"SOUR:CURR:PROT 2.0000,(@1:12)\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b"OUTP ON,(@1:12)\n", None),
            (b"OUTP OFF,(@1:12)\n", None),
        ],
        model="87001-12",
    ) as cells:
        cells.set_cell_voltage(5, 3.285)
        cells.set_cell_voltages([3.3 + i / 1000 for i in range(12)])
        cells.set_current_limit(0.5)
        cells.program_protection(ovp_v=4.3, ocp_a=2.0)
        cells.output_on()
        cells.output_off()


def test_read_back_lists(expected_protocol):
    volts = ",".join(f"{3.3:.4f}" for _ in range(12)).encode()
    amps = b"0.0010,0.0010,0.0500,0.0010,0.0010,0.0010,0.0010,0.0010,0.0010,0.0010,0.0010,-0.0010"
    with expected_protocol(
        Chroma87001,
        [
            (b"MEAS:VOLT? (@1:12)\n", volts + b"\n"),
            (b"MEAS:CURR? (@1:12)\n", amps + b"\n"),
            (b"OUTP? (@1:12)\n", b"0,0,0,0,0,1,0,0,0,0,0,0\n"),
        ],
        model="87001-12",
    ) as cells:
        assert cells.measure_voltages() == [3.3] * 12
        currents = cells.measure_currents()
        assert cells.outputs_enabled() == [False] * 5 + [True] + [False] * 6
    assert currents[2] == 0.05 and currents[-1] == -0.001


@pytest.mark.parametrize("reply", [b"3.3,3.3\n", b"3.3,,3.3,3.3,3.3,3.3,3.3,3.3,3.3,3.3,3.3,3.3\n", b"ERR\n"])
def test_wrong_count_or_garbage_is_malformed(expected_protocol, reply):
    with (
        # a garbled reply is asked again before it is an error (instruments.base.READ_RETRIES)
        expected_protocol(
            Chroma87001, [(b"MEAS:VOLT? (@1:12)\n", reply)] * (1 + READ_RETRIES), model="87001-12"
        ) as cells,
        pytest.raises(MalformedReply, match=r"MEAS:VOLT\? .*\(asked 3 times\)"),
    ):
        cells.measure_voltages()


def test_bad_channel_and_voltage_send_nothing(expected_protocol):
    with expected_protocol(Chroma87001, [], model="87001-12") as cells:
        with pytest.raises(OutOfRating, match="channel 13"):
            cells.set_cell_voltage(13, 3.3)
        with pytest.raises(OutOfRating, match="channel 2 voltage_v"):
            cells.set_cell_voltages([3.3, 5.5] + [3.3] * 10)
        with pytest.raises(OutOfRating, match="12 channels"):
            cells.set_cell_voltages([3.3] * 11)
