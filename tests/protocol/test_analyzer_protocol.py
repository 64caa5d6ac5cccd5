"""WT5000: ranges from the fixed lists, numeric and harmonic lists, errors from :STATus:ERRor?, and a
capture that holds one update of every trace and takes the record at the rate the analyzer reports."""

from __future__ import annotations

import time

import numpy as np
import pytest

from instruments.analyzer import WT5000
from instruments.errors import InstrumentError, InstrumentReportedError, MalformedReply, OutOfRating

NO_ERROR = (b":STAT:ERR?\n", b'0,"No error"\n')


def _block(values: np.ndarray) -> bytes:
    payload = values.astype("<f4").tobytes()
    length = str(len(payload)).encode()
    return b"#" + str(len(length)).encode() + length + payload + b"\n"


def test_configure_direct_ranges(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":COMM:REM ON\n", None),
            (b":INP:WIR P3W4\n", None),
            (b":INP:VOLT:RANG:ALL 1000V\n", None),
            (b":INP:CURR:RANG:ALL 30A\n", None),
            (b":NUM:FORM ASC\n", None),
            NO_ERROR,
        ],
    ) as pa:
        pa.configure("P3W4", 1000, 30)


def test_configure_through_current_sensors(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":COMM:REM ON\n", None),
            (b":INP:WIR P3W4\n", None),
            (b":INP:VOLT:RANG:ALL 600V\n", None),
            (b":INP:CURR:SRAT:ALL 10\n", None),
            (b":INP:CURR:RANG:ALL EXT,0.5V\n", None),
            (b":NUM:FORM ASC\n", None),
            NO_ERROR,
        ],
        model="WT5000-EXT-10mV/A",
    ) as pa:
        pa.configure("P3W4", 600, 50)


def test_ranges_are_a_fixed_list(expected_protocol):
    with expected_protocol(WT5000, []) as pa:
        with pytest.raises(OutOfRating, match="voltage range 700 V is not one of"):
            pa.configure("P3W4", 700, 30)
        with pytest.raises(OutOfRating, match="above 30 A a current sensor is needed"):
            pa.configure("P3W4", 1000, 50)
        with pytest.raises(OutOfRating, match="25 A is not one of the direct ranges"):
            pa.configure("P3W4", 1000, 25)
    with expected_protocol(WT5000, [], model="WT5000-EXT-10mV/A") as pa:
        with pytest.raises(OutOfRating, match="not a sensor range at 10 mV/A"):
            pa.configure("P3W4", 1000, 300)


def test_numeric_items(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":NUM:NORM:NUMB 3;:NUM:NORM:ITEM1 URMS,1;:NUM:NORM:ITEM2 IRMS,1;:NUM:NORM:ITEM3 P,4\n", None),
            (b":NUM:NORM:VAL?\n", b"3.4012E+02,2.3601E+02,1.2050E+05\n"),
        ],
    ) as pa:
        assert pa.read_numeric([("URMS", 1), ("IRMS", 1), ("P", 4)]) == [340.12, 236.01, 120500.0]


def test_harmonic_list_is_total_dc_then_orders(expected_protocol):
    """:NUM:LIST:VAL? gives Total, DC, then orders 1..:NUM:LIST:ORD; the driver sets the order and
    returns the total and the orders."""
    values = [5.0, 0.01, 236.0] + [0.5] * 49
    with expected_protocol(
        WT5000,
        [
            (b":HARM1:ORD 1,50;:NUM:LIST:ORD 50;:NUM:LIST:SEL ALL;:NUM:LIST:ITEM1 I,1\n", None),
            (b":NUM:LIST:VAL? 1\n", ",".join(f"{v:.4E}" for v in values).encode() + b"\n"),
        ],
    ) as pa:
        assert pa.read_harmonics("IK", 1) == pytest.approx([5.0, 236.0] + [0.5] * 49)


def test_errors_come_from_the_status_queue_with_positive_codes(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":WAV:SRAT 1000000\n", None),
            (b":STAT:ERR?\n", b'113,"Undefined header"\n'),
            NO_ERROR,
        ],
    ) as pa:
        pa.write(":WAV:SRAT 1000000")
        named = r"after ':WAV:SRAT 1000000': 113,\"Undefined header\""
        with pytest.raises(InstrumentReportedError, match=named):
            pa.check_errors()


def test_capture_holds_one_update_and_decimates_the_record(expected_protocol):
    """The record runs at 200 kS/s and holds 1000 samples; 100 samples at 40 kS/s are every fifth of
    its last 496."""
    record = np.arange(1000, dtype=np.float32)
    u1, i1 = record * 2, -record
    with expected_protocol(
        WT5000,
        [
            (b":WAV:FORM FLO;:WAV:BYT LSBF\n", None),
            (b":WAV:HOLD ON\n", None),
            (b":WAV:SRAT?\n", b"200.000E+03\n"),
            (b":WAV:LENG?\n", b"1000\n"),
            (b":WAV:TRAC U1;:WAV:STAR 504;:WAV:END 999\n", None),
            (b":WAV:SEND?\n", _block(u1[504:])),
            (b":WAV:TRAC I1;:WAV:STAR 504;:WAV:END 999\n", None),
            (b":WAV:SEND?\n", _block(i1[504:])),
            (b":WAV:HOLD OFF\n", None),
            NO_ERROR,
        ],
    ) as pa:
        asked = time.monotonic()
        data = pa.capture(["U1", "I1"], 40_000, 100)
        returned = time.monotonic()
    # the record was held between :WAV:HOLD ON going out and :WAV:SRAT? answering, on this clock
    assert asked <= data.frozen_after_s <= data.frozen_before_s <= returned
    assert data.samples.dtype == np.float32 and data.samples.shape == (2, 100)
    np.testing.assert_array_equal(data.samples[0], u1[504::5])
    np.testing.assert_array_equal(data.samples[1], i1[504::5])
    assert data.samples[0, -1] == u1[-1], "the last sample is the record's last"
    assert (data.sample_rate_hz, data.start_time_s, data.channels, data.units) == (
        40_000.0,
        -99 / 40_000,
        ("U1", "I1"),
        ("V", "A"),
    )


def test_a_record_too_short_or_at_another_rate_is_refused_and_released(expected_protocol):
    with expected_protocol(
        WT5000,
        [
            (b":WAV:FORM FLO;:WAV:BYT LSBF\n", None),
            (b":WAV:HOLD ON\n", None),
            (b":WAV:SRAT?\n", b"200.000E+03\n"),
            (b":WAV:LENG?\n", b"1000\n"),
            (b":WAV:HOLD OFF\n", None),
            (b":WAV:FORM FLO;:WAV:BYT LSBF\n", None),
            (b":WAV:HOLD ON\n", None),
            (b":WAV:SRAT?\n", b"200.000E+03\n"),
            (b":WAV:LENG?\n", b"1000\n"),
            (b":WAV:HOLD OFF\n", None),
        ],
    ) as pa:
        with pytest.raises(InstrumentError, match=r"holds 1000 samples at 200000 S/s .* need 0.007505 s"):
            pa.capture(["U1"], 20_000, 151)
        with pytest.raises(InstrumentError, match="30000 S/s is not a whole fraction"):
            pa.capture(["U1"], 30_000, 10)


def test_short_block_is_malformed(expected_protocol):
    with (
        expected_protocol(
            WT5000,
            [
                (b":WAV:FORM FLO;:WAV:BYT LSBF\n", None),
                (b":WAV:HOLD ON\n", None),
                (b":WAV:SRAT?\n", b"1000\n"),
                (b":WAV:LENG?\n", b"10\n"),
                (b":WAV:TRAC U1;:WAV:STAR 0;:WAV:END 9\n", None),
                (b":WAV:SEND?\n", _block(np.zeros(9))),
                (b":WAV:HOLD OFF\n", None),
            ],
        ) as pa,
        pytest.raises(MalformedReply, match="9 samples, expected 10"),
    ):
        pa.capture(["U1"], 1000, 10)


def test_bad_trace_function_and_order_send_nothing(expected_protocol):
    with expected_protocol(WT5000, []) as pa:
        with pytest.raises(OutOfRating, match="U9"):
            pa.capture(["U9"], 1e6, 100)
        with pytest.raises(OutOfRating, match="samples 0"):
            pa.capture(["U1"], 1e6, 0)
        with pytest.raises(OutOfRating, match="LAMBDAX"):
            pa.read_numeric([("LAMBDAX", 1)])
        with pytest.raises(OutOfRating, match="element=8"):
            pa.read_numeric([("URMS", 8)])
        with pytest.raises(OutOfRating, match="max_order 51"):
            pa.read_harmonics("UK", 1, 51)


def test_the_family_manuals_worked_examples(expected_protocol):
    """Replies as the WT3000 communication manual prints them (ch. 6: *IDN? on 6-114,
    :NUMeric:NORMal:VALue? on 6-96, :NUMeric:LIST:VALue? on 6-94), read by this driver."""
    listed = b"103.58E+00,0.00E+00,103.53E+00,0.09E+00,2.07E+00,0.04E+00"
    with expected_protocol(
        WT5000,
        [
            (b"*IDN?\n", b"YOKOGAWA,WT3004E-2A0-30A4,0,F6.01\n"),
            (b":NUM:NORM:NUMB 3;:NUM:NORM:ITEM1 URMS,1;:NUM:NORM:ITEM2 IRMS,1;:NUM:NORM:ITEM3 P,1\n", None),
            (b":NUM:NORM:VAL?\n", b"104.75E+00,105.02E+00,-0.38E+00\n"),
            (b":HARM1:ORD 1,4;:NUM:LIST:ORD 4;:NUM:LIST:SEL ALL;:NUM:LIST:ITEM1 U,1\n", None),
            (b":NUM:LIST:VAL? 1\n", listed + b"\n"),
        ],
    ) as pa:
        identity = pa.identify()
        assert (identity.manufacturer, identity.model, identity.serial) == (
            "YOKOGAWA",
            "WT3004E-2A0-30A4",
            "0",
        )
        assert pa.read_numeric([("URMS", 1), ("IRMS", 1), ("P", 1)]) == [104.75, 105.02, -0.38]
        # Total, then orders 1..4; the DC component (0.00) is the list's second value
        assert pa.read_harmonics("UK", 1, max_order=4) == [103.58, 103.53, 0.09, 2.07, 0.04]
