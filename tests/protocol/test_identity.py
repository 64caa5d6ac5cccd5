"""``*IDN?`` replies as vendors write them: IEEE 488.2's four fields, and more firmware fields."""

from __future__ import annotations

import pytest

from instruments.base import Identity


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # IEEE 488.2 §10.14: manufacturer, model, serial, firmware
        (
            "ITECH Ltd.,IT6054C-800-225,6036123456,1.02-1.05",
            ("ITECH Ltd.", "IT6054C-800-225", "6036123456", "1.02-1.05"),
        ),
        # a real IT6054C-800-225: three firmware fields, kept joined [OpenBench-lab-control live log]
        (
            "ITECH Electronics,IT6054C-800-225,ITECH-DEMO-0001,000.006.101,640.R,132.R",
            ("ITECH Electronics", "IT6054C-800-225", "ITECH-DEMO-0001", "000.006.101,640.R,132.R"),
        ),
        # spaces around the commas and the terminator are not part of a field
        (" YOKOGAWA , WT5000 , 91M000001 , F1.01 \r", ("YOKOGAWA", "WT5000", "91M000001", "F1.01")),
    ],
)
def test_vendor_formats_are_accepted(reply, expected):
    identity = Identity.parse(reply)
    assert (identity.manufacturer, identity.model, identity.serial, identity.firmware) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "ITECH,IT6054C",  # too few fields
        "ITECH,IT6054C-800-225,0001",
        "ITECH,IT6054C-800-225,,1.0",  # an empty serial
        "ITECH,IT6054C-800-225,0001,",  # an empty firmware field
        "ITECH,IT6054C-800-225,0001,1,2,3,4",  # more fields than any vendor's format
        "ITECH,IT6054C\x00-800,0001,1.0",  # not printable
        "5.99870E+02",  # a measurement answering the question before
    ],
)
def test_garbage_is_refused(reply):
    with pytest.raises(ValueError, match=r"\*IDN\? reply"):
        Identity.parse(reply)
