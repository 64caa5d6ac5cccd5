"""DTC and DM1/DM2 codec against vectors written out by hand from the J1939-73 layout (reference §5.2)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hil.dut.dtc import DmMessage, Dtc, FlashStatus, Lamps, LampStatus, decode_dm, encode_dm

AMBER = Lamps(amber_warning=LampStatus.ON)
RED = Lamps(red_stop=LampStatus.ON)

# (DTC, its 4 bytes) — byte 3: SPN bits 18-16 in bits 8-6, FMI in bits 5-1; byte 4: CM bit 8, OC 7-1.
DTC_VECTORS = [
    (Dtc(spn=190, fmi=0, oc=1), bytes.fromhex("BE000001")),
    (Dtc(spn=520192, fmi=3, oc=2), bytes.fromhex("00F0E302")),  # 0x7F000: SPN > 65535
    (Dtc(spn=65536, fmi=1, oc=0), bytes.fromhex("00002100")),  # the lowest SPN with a high bit
    (Dtc(spn=524287, fmi=31, oc=126, cm=1), bytes.fromhex("FFFFFFFE")),
]


@pytest.mark.parametrize(("dtc", "raw"), DTC_VECTORS)
def test_dtc_bytes_match_hand_written_vectors(dtc: Dtc, raw: bytes) -> None:
    assert dtc.to_bytes() == raw
    assert Dtc.from_bytes(raw) == dtc


def test_dtc_decoding_agrees_with_python_can_j1939_formula() -> None:
    # spn = (dtc & 0xFFFF) | ((dtc >> 5) & 0x70000); fmi = (dtc >> 16) & 0x1F [S: reference §5.2]
    for dtc, raw in DTC_VECTORS:
        word = int.from_bytes(raw, "little")
        assert dtc.spn == (word & 0xFFFF) | ((word >> 5) & 0x70000)
        assert dtc.fmi == (word >> 16) & 0x1F
        assert dtc.oc == (word >> 24) & 0x7F


def test_dm1_single_dtc_frame() -> None:
    assert encode_dm(AMBER, [Dtc(190, 0, 1)]) == bytes.fromhex("04FFBE000001FFFF")


def test_dm1_single_dtc_above_65535_with_red_stop_lamp() -> None:
    raw = bytes.fromhex("10FF00F0E302FFFF")
    assert encode_dm(RED, [Dtc(520192, 3, 2)]) == raw
    assert decode_dm(raw) == DmMessage(lamps=RED, dtcs=(Dtc(520192, 3, 2),))


def test_dm1_without_dtc_is_all_zero_dtc_and_decodes_to_empty_list() -> None:
    raw = bytes.fromhex("00FF00000000FFFF")
    assert encode_dm(Lamps(), []) == raw
    assert decode_dm(raw).dtcs == ()


def test_dm1_two_dtcs_is_ten_bytes_for_transport() -> None:
    lamps = Lamps(red_stop=LampStatus.ON, amber_warning=LampStatus.ON)
    raw = bytes.fromhex("14FFBE00000100F0E302")
    assert encode_dm(lamps, [Dtc(190, 0, 1), Dtc(520192, 3, 2)]) == raw
    assert decode_dm(raw).dtcs == (Dtc(190, 0, 1), Dtc(520192, 3, 2))


def test_lamp_bit_positions() -> None:
    # byte 1: MIL 8-7, red stop 6-5, amber 4-3, protect 2-1; byte 2 flash at the same positions
    lamps = Lamps(
        mil=LampStatus.ON,
        protect=LampStatus.NOT_AVAILABLE,
        mil_flash=FlashStatus.FAST,
        protect_flash=FlashStatus.SLOW,
    )
    assert lamps.to_bytes() == bytes([0b01_00_00_11, 0b01_11_11_00])
    assert Lamps.from_bytes(lamps.to_bytes()) == lamps


def test_uds_dtc_number_is_first_three_j1939_bytes() -> None:
    assert Dtc(520192, 3).uds_number == 0x00F0E3
    assert Dtc(190, 0).uds_number == 0xBE0000
    assert Dtc.from_uds_number(0x00F0E3, oc=2) == Dtc(520192, 3, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spn": 1 << 19, "fmi": 0}, "spn"),
        ({"spn": 1, "fmi": 32}, "fmi"),
        ({"spn": 1, "fmi": 0, "oc": 128}, "oc"),
        ({"spn": 1, "fmi": 0, "cm": 2}, "cm"),
    ],
)
def test_dtc_out_of_range_is_refused_with_the_field_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Dtc(**kwargs)


def test_short_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 6 bytes"):
        decode_dm(bytes.fromhex("04FF0000"))


dtcs = st.builds(
    Dtc,
    spn=st.integers(1, (1 << 19) - 1),
    fmi=st.integers(0, 31),
    oc=st.integers(0, 126),
    cm=st.integers(0, 1),
)
lamp_states = st.sampled_from(list(LampStatus))
flash_states = st.sampled_from(list(FlashStatus))
lamps_st = st.builds(
    Lamps, lamp_states, lamp_states, lamp_states, lamp_states, flash_states, flash_states, flash_states
)


@given(dtc=dtcs)
def test_dtc_round_trip(dtc: Dtc) -> None:
    assert Dtc.from_bytes(dtc.to_bytes()) == dtc
    assert Dtc.from_uds_number(dtc.uds_number, dtc.oc).key == dtc.key


@given(lamps=lamps_st, dtc_list=st.lists(dtcs, max_size=20))
def test_dm_round_trip(lamps: Lamps, dtc_list: list[Dtc]) -> None:
    assert decode_dm(encode_dm(lamps, dtc_list)) == DmMessage(lamps=lamps, dtcs=tuple(dtc_list))
