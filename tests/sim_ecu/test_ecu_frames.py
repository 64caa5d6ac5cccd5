"""The simulated firmware's own encoder against the same hand-written J1939 vectors as the client."""

from sim.ecu import j1939_frames as f


def test_dtc_bytes_vectors() -> None:
    assert f.dtc_bytes(190, 0, 1) == bytes.fromhex("BE000001")
    assert f.dtc_bytes(520192, 3, 2) == bytes.fromhex("00F0E302")
    assert f.dtc_bytes(524287, 31, 126) == bytes.fromhex("FFFFFF7E")


def test_contiguous_spn_defect_is_right_only_for_small_spn_and_fmi_0() -> None:
    assert f.dtc_bytes_contiguous_spn(190, 0, 1) == f.dtc_bytes(190, 0, 1)
    assert f.dtc_bytes_contiguous_spn(190, 3, 1) == bytes.fromhex("BE001801")  # FMI 3 above bit 19
    assert f.dtc_bytes_contiguous_spn(520192, 0, 1) == bytes.fromhex("00F00701")  # SPN bits 16-18 low


def test_dm1_payload_vectors() -> None:
    assert f.dm_payload(f.lamp_bytes(False, False, True, False), [f.dtc_bytes(190, 0, 1)]) == bytes.fromhex(
        "04FFBE000001FFFF"
    )
    assert f.dm_payload(f.lamp_bytes(False, False, False, False), []) == bytes.fromhex("00FF00000000FFFF")
    two = f.dm_payload(
        f.lamp_bytes(False, True, True, False), [f.dtc_bytes(190, 0, 1), f.dtc_bytes(520192, 3, 2)]
    )
    assert two == bytes.fromhex("14FFBE00000100F0E302")


def test_bam_frames_vector() -> None:
    announce, packets = f.bam_frames(f.PGN_DM1, bytes.fromhex("14FFBE00000100F0E302"))
    assert announce == bytes.fromhex("200A0002FFCAFE00")
    assert packets == [bytes.fromhex("0114FFBE00000100"), bytes.fromhex("02F0E302FFFFFFFF")]


def test_identifier_vectors() -> None:
    assert f.can_id(7, f.PGN_TP_CM, 0x00) == 0x1CECFF00
    assert f.can_id(6, f.PGN_DM1, 0xF3) == 0x18FECAF3
    assert f.can_id(6, f.PGN_ACK, 0x00, f.GLOBAL) == 0x18E8FF00
    assert f.split_id(0x18EA00F1) == (f.PGN_REQUEST, 0xF1, 0x00)
    assert f.split_id(0x18FECA03) == (f.PGN_DM1, 0x03, f.GLOBAL)


def test_ack_vector() -> None:
    assert f.ack_payload(f.ACK_POSITIVE, 0xF1, f.PGN_DM11) == bytes.fromhex("00FFFFFFF1D3FE00")
