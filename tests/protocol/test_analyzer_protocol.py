"""WT5000: numeric lists, harmonic lists and binary waveform blocks."""

from __future__ import annotations

import time

import numpy as np
import pytest

from instruments.analyzer import WT5000
from instruments.errors import MalformedReply, OutOfRating


def _block(values: np.ndarray) -> bytes:
    payload = values.astype("<f4").tobytes()
    length = str(len(payload)).encode()
    return b"#" + str(len(length)).encode() + length + payload + b"\n"


def test_configure(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":COMM:REM ON\n", None),
            (b":INP:WIR P3W4\n", None),
            (b":INP:VOLT:RANG:ALL 1000V\n", None),
            (b":INP:CURR:RANG:ALL 50A\n", None),
            (b":NUM:FORM ASC\n", None),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
        ],
    ) as pa:
        pa.configure("P3W4", 1000, 50)


def test_numeric_items(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":NUM:NORM:NUMB 3;:NUM:NORM:ITEM1 URMS,1;:NUM:NORM:ITEM2 IRMS,1;:NUM:NORM:ITEM3 P,4\n", None),
            (b":NUM:NORM:VAL?\n", b"3.4012E+02,2.3601E+02,1.2050E+05\n"),
        ],
    ) as pa:
        assert pa.read_numeric([("URMS", 1), ("IRMS", 1), ("P", 4)]) == [340.12, 236.01, 120500.0]


def test_harmonic_list(expected_protocol):
    values = [5.0, 236.0] + [0.5] * 49
    with expected_protocol(
        WT5000,
        [
            (b":HARM1:ORD 1,50;:NUM:LIST:ITEM1 IK,1\n", None),
            (b":NUM:LIST:VAL? 1\n", ",".join(f"{v:.4E}" for v in values).encode() + b"\n"),
        ],
    ) as pa:
        assert pa.read_harmonics("IK", 1) == pytest.approx(values)


def test_waveform_capture_reads_binary_blocks(expected_protocol):
    n = 1000
    u1 = np.sin(np.linspace(0, 20 * np.pi, n)).astype(np.float32) * 400
    i1 = np.cos(np.linspace(0, 20 * np.pi, n)).astype(np.float32) * 300
    with expected_protocol(
        WT5000,
        [
            (b":WAV:SRAT 1e+06;:WAV:LENG 1000;:WAV:FORM FLO;:WAV:BYT LSBF\n", None),
            (b":WAV:CAPT\n", None),
            (b"*OPC?\n", b"1\n"),
            (b"SYST:ERR?\n", b'0,"No error"\n'),
            (b":WAV:SRAT?\n", b"1.0E+06\n"),
            (b":WAV:TIME?\n", b"12.5\n"),
            (b":WAV:TRAC U1;:WAV:STAR 0;:WAV:END 999\n", None),
            (b":WAV:SEND?\n", _block(u1)),
            (b":WAV:TRAC I1;:WAV:STAR 0;:WAV:END 999\n", None),
            (b":WAV:SEND?\n", _block(i1)),
        ],
    ) as pa:
        asked = time.monotonic()
        data = pa.capture(["U1", "I1"], 1e6, n)
        returned = time.monotonic()
    # the record froze between :WAV:CAPT going out and *OPC? answering, on this process's clock
    assert asked <= data.frozen_after_s <= data.frozen_before_s <= returned
    assert data.samples.dtype == np.float32 and data.samples.shape == (2, n)
    np.testing.assert_array_equal(data.samples[0], u1)
    np.testing.assert_array_equal(data.samples[1], i1)
    assert (data.sample_rate_hz, data.start_time_s, data.channels, data.units) == (
        1e6,
        12.5,
        ("U1", "I1"),
        ("V", "A"),
    )


def test_short_block_is_malformed(expected_protocol):
    with (
        expected_protocol(
            WT5000,
            [
                (b":WAV:SRAT 1000;:WAV:LENG 10;:WAV:FORM FLO;:WAV:BYT LSBF\n", None),
                (b":WAV:CAPT\n", None),
                (b"*OPC?\n", b"1\n"),
                (b"SYST:ERR?\n", b'0,"No error"\n'),
                (b":WAV:SRAT?\n", b"1000\n"),
                (b":WAV:TIME?\n", b"0\n"),
                (b":WAV:TRAC U1;:WAV:STAR 0;:WAV:END 9\n", None),
                (b":WAV:SEND?\n", _block(np.zeros(9))),
            ],
        ) as pa,
        pytest.raises(MalformedReply, match="9 samples, expected 10"),
    ):
        pa.capture(["U1"], 1000, 10)


def test_bad_trace_and_rate_send_nothing(expected_protocol):
    with expected_protocol(WT5000, []) as pa:
        with pytest.raises(OutOfRating, match="U9"):
            pa.capture(["U9"], 1e6, 100)
        with pytest.raises(OutOfRating, match="sample_rate_hz"):
            pa.capture(["U1"], 2e7, 100)
        with pytest.raises(OutOfRating, match="LAMBDAX"):
            pa.read_numeric([("LAMBDAX", 1)])
