"""J1939 identifiers, BAM reassembly and the J1939 client against hand-written frames."""

import can
import pytest

from hil.dut.can_link import CanLink
from hil.dut.dtc import Dtc, LampStatus, decode_dm
from hil.dut.j1939 import (
    PGN_DM1,
    PGN_DM2,
    PGN_DM11,
    Acknowledgment,
    BamReassembler,
    J1939Client,
    J1939Id,
    compose_id,
    parse_id,
)

# Hand-written from J1939-21/-73: DM1 of SA 0x00 with two DTCs (SPN 190/FMI 0/OC 1 and
# SPN 520192/FMI 3/OC 2), red stop + amber lamps: 10 bytes → TP.CM BAM + 2 TP.DT.
BAM_CM = (0x1CECFF00, bytes.fromhex("200A0002FFCAFE00"))
BAM_DT = [
    (0x1CEBFF00, bytes.fromhex("0114FFBE00000100")),
    (0x1CEBFF00, bytes.fromhex("02F0E302FFFFFFFF")),
]


@pytest.mark.parametrize(
    ("can_id", "fields"),
    [
        (0x0CF004FE, J1939Id(3, 61444, 0xFE)),  # EEC1 [S: reference §5.1]
        (0x0C000027, J1939Id(3, 0, 0x27, 0x00)),  # TSC1 VCU → drive: PDU1, PS is the destination
        (0x18EA00F1, J1939Id(6, 59904, 0xF1, 0x00)),  # Request from the tester to 0x00
        (0x18FECA03, J1939Id(6, 65226, 0x03)),  # DM1 of the transmission
        (0x1CEBFF00, J1939Id(7, 60160, 0x00, 0xFF)),  # TP.DT broadcast
    ],
)
def test_identifier_vectors(can_id: int, fields: J1939Id) -> None:
    assert parse_id(can_id) == fields
    assert (
        compose_id(fields.priority, fields.pgn, fields.source_address, fields.destination_address) == can_id
    )


def test_pdu2_ignores_destination_and_pdu1_refuses_a_low_byte() -> None:
    assert compose_id(6, PGN_DM1, 0x00, destination_address=0x12) == 0x18FECA00
    with pytest.raises(ValueError, match="PDU1"):
        compose_id(6, 0xEA12, 0xF1)
    with pytest.raises(ValueError, match="priority"):
        compose_id(8, PGN_DM1, 0)


def test_bam_reassembly_of_hand_written_frames() -> None:
    bam = BamReassembler()
    bam.on_cm(0x00, BAM_CM[1], now_s=0.0)
    assert bam.on_dt(0x00, BAM_DT[0][1], now_s=0.05) is None
    assert bam.on_dt(0x00, BAM_DT[1][1], now_s=0.10) == (PGN_DM1, bytes.fromhex("14FFBE00000100F0E302"))


def test_bam_out_of_sequence_or_late_packet_drops_the_session() -> None:
    bam = BamReassembler()
    bam.on_cm(0x00, BAM_CM[1], now_s=0.0)
    assert bam.on_dt(0x00, BAM_DT[1][1], now_s=0.05) is None  # packet 2 before 1
    assert bam.on_dt(0x00, BAM_DT[0][1], now_s=0.06) is None  # session gone
    bam.on_cm(0x00, BAM_CM[1], now_s=1.0)
    bam.on_dt(0x00, BAM_DT[0][1], now_s=1.05)
    assert bam.on_dt(0x00, BAM_DT[1][1], now_s=1.9) is None  # > T1 = 750 ms after the previous
    assert bam.dropped == 2


def _send(bus: can.BusABC, frame: tuple[int, bytes]) -> None:
    bus.send(can.Message(arbitration_id=frame[0], data=frame[1], is_extended_id=True))


def test_client_collects_single_frame_dm1(link: CanLink, peer: can.BusABC) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        mark = client.mark()
        _send(peer, (0x18FECA00, bytes.fromhex("10FF00F0E302FFFF")))
        found = client.wait_for(PGN_DM1, 0x00, timeout_s=2.0, after=mark)
    assert found is not None
    assert decode_dm(found.data).dtcs == (Dtc(520192, 3, 2),)


def test_client_reassembles_bam_dm1_and_ignores_other_sources(link: CanLink, peer: can.BusABC) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        mark = client.mark()
        _send(peer, (0x18FECA03, bytes.fromhex("04FFBE000001FFFF")))  # DM1 of another ECU
        for frame in [BAM_CM, *BAM_DT]:
            _send(peer, frame)
        found = client.wait_for(PGN_DM1, 0x00, timeout_s=2.0, after=mark)
    assert found is not None
    dm1 = decode_dm(found.data)
    assert dm1.dtcs == (Dtc(190, 0, 1), Dtc(520192, 3, 2))
    assert dm1.lamps.red_stop == LampStatus.ON and dm1.lamps.amber_warning == LampStatus.ON


def test_a_message_carries_the_interface_timestamp_of_its_first_frame(link: CanLink, channel: str) -> None:
    stamped = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
    try:
        with J1939Client(link.bus, link.notifier) as client:
            mark = client.mark()
            frames = [(0x18FECA03, bytes.fromhex("04FFBE000001FFFF")), BAM_CM, *BAM_DT]
            for stamp, (can_id, data) in zip((10.0, 20.0, 20.05, 20.10), frames, strict=True):
                stamped.send(
                    can.Message(arbitration_id=can_id, data=data, is_extended_id=True, timestamp=stamp)
                )
            bam = client.wait_for(PGN_DM1, 0x00, timeout_s=2.0, after=mark)
            single = client.messages(PGN_DM1, 0x03, after=mark)
    finally:
        stamped.shutdown()
    assert bam is not None and bam.bus_time_s == 20.0  # the TP.CM's, not the last packet's
    assert [m.bus_time_s for m in single] == [10.0]


def test_wait_dm1_times_out_naming_the_source(link: CanLink) -> None:
    with J1939Client(link.bus, link.notifier) as client, pytest.raises(TimeoutError, match="0xF3"):
        client.wait_dm1(0xF3, timeout_s=0.05)


def test_request_frame_layout(link: CanLink, peer: can.BusABC) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        client.request(PGN_DM2, destination_address=0x00)
        request = peer.recv(timeout=2.0)
    assert request is not None
    assert (request.arbitration_id, bytes(request.data)) == (0x18EA00F1, bytes.fromhex("CBFE00"))


def test_clear_active_dtcs_returns_the_ecus_acknowledgment(link: CanLink, peer: can.BusABC) -> None:
    def ecu(msg: can.Message) -> None:  # ACKs a DM11 request from 0xF1, to global, as J1939-21 has it
        if msg.arbitration_id == 0x18EA00F1 and bytes(msg.data) == bytes.fromhex("D3FE00"):
            _send(peer, (0x18E8FF00, bytes.fromhex("00FFFFFFF1D3FE00")))

    responder = can.Notifier(peer, [ecu], timeout=0.02)
    try:
        with J1939Client(link.bus, link.notifier) as client:
            ack = client.clear_active_dtcs(0x00, timeout_s=2.0)
    finally:
        responder.stop()
    assert ack == Acknowledgment(control=0, group_function=0xFF, address=0xF1, pgn=PGN_DM11, source_address=0)
    assert ack.positive


def test_clear_without_acknowledgment_returns_none(link: CanLink) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        assert client.clear_previously_active_dtcs(0x00, timeout_s=0.05) is None
