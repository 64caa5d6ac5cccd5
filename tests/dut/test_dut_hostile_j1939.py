"""Bad frames into the J1939 side: short DMs, BAMs with a wrong announce or wrong packets, and garbage
into the transport reassembly and the DM decoder. Each is rejected, and what follows is still read."""

from __future__ import annotations

import threading
import time

import can
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.dut.can_link import CanLink
from hil.dut.dtc import DmMessage, Dtc, Lamps, LampStatus, decode_dm, encode_dm
from hil.dut.j1939 import PGN_DM1, TP_CM_BAM, BamReassembler, J1939Client

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)

DM1_DRIVE = 0x18FECA00
TP_CM_DRIVE = 0x1CECFF00
TP_DT_DRIVE = 0x1CEBFF00
FOUR_DTCS = (Dtc(190, 0, 1), Dtc(520192, 3, 2), Dtc(110, 16, 3), Dtc(65536, 31, 4))
FOUR_DTC_PAYLOAD = encode_dm(Lamps(red_stop=LampStatus.ON), FOUR_DTCS)  # 18 bytes


def bam(payload: bytes, size: int | None = None, packets: int | None = None) -> tuple[bytes, list[bytes]]:
    """The TP.CM and TP.DT data of a DM1 BAM; ``size``/``packets`` override what the announce says."""
    count = -(-len(payload) // 7)
    cm = bytes([TP_CM_BAM]) + (size or len(payload)).to_bytes(2, "little")
    cm += bytes([count if packets is None else packets, 0xFF]) + PGN_DM1.to_bytes(3, "little")
    padded = payload.ljust(7 * count, b"\xff")
    return cm, [bytes([n + 1]) + padded[7 * n : 7 * n + 7] for n in range(count)]


def feed(reassembler: BamReassembler, cm: bytes, packets: list[bytes]) -> list[tuple[int, bytes]]:
    reassembler.on_cm(0x00, cm, now_s=0.0)
    done = [reassembler.on_dt(0x00, packet, now_s=0.01 * (n + 1)) for n, packet in enumerate(packets)]
    return [d for d in done if d is not None]


def test_a_well_formed_four_dtc_bam_decodes_to_four_dtcs() -> None:
    cm, packets = bam(FOUR_DTC_PAYLOAD)
    delivered = feed(BamReassembler(), cm, packets)
    assert delivered == [(PGN_DM1, FOUR_DTC_PAYLOAD)]
    assert decode_dm(delivered[0][1]).dtcs == FOUR_DTCS


@pytest.mark.parametrize(
    ("announce", "reason"),
    [
        ({"packets": 1}, "announced 1 packets for 18 bytes"),  # was delivered as 7 bytes: one DTC
        ({"packets": 4}, "announced 4 packets for 18 bytes"),
        ({"size": 7}, "announced 7 bytes, outside 9..1785"),
        ({"size": 2000, "packets": 255}, "announced 2000 bytes"),
    ],
)
def test_a_bam_announcing_the_wrong_size_or_count_is_refused(announce: dict[str, int], reason: str) -> None:
    reassembler = BamReassembler()
    cm, packets = bam(FOUR_DTC_PAYLOAD, **announce)
    assert feed(reassembler, cm, packets) == []
    assert reassembler.dropped == 1
    assert reason in reassembler.rejects.first["announce 0x00"]


@pytest.mark.parametrize(
    ("order", "kind"),
    [([1, 3], "missing"), ([1, 1, 2, 3], "repeated"), ([2, 1, 3], "missing"), ([1, 3, 2], "missing")],
)
def test_missing_repeated_or_out_of_order_packets_drop_the_session(order: list[int], kind: str) -> None:
    reassembler = BamReassembler()
    cm, packets = bam(FOUR_DTC_PAYLOAD)
    assert feed(reassembler, cm, [packets[n - 1] for n in order]) == []
    assert reassembler.rejects.counts[f"{kind} 0x00"] == 1


def test_a_short_packet_drops_the_session() -> None:
    reassembler = BamReassembler()
    cm, packets = bam(FOUR_DTC_PAYLOAD)
    assert feed(reassembler, cm, [packets[0], packets[1][:5], packets[2]]) == []
    assert "TP.DT of 5 bytes" in reassembler.rejects.first["packet 0x00"]


def test_a_transport_dm_of_a_length_that_is_not_whole_dtcs_is_refused() -> None:
    with pytest.raises(ValueError, match="DM payload of 12 bytes: a multi-frame DM carries 2 \\+ 4·n"):
        decode_dm(FOUR_DTC_PAYLOAD[:12])
    assert decode_dm(FOUR_DTC_PAYLOAD[:14]).dtcs == FOUR_DTCS[:3]


def _send(bus: can.BusABC, can_id: int, data: bytes) -> None:
    bus.send(can.Message(arbitration_id=can_id, data=data, is_extended_id=True))


def test_a_short_dm1_does_not_end_a_wait_for_the_good_one_10_ms_later(
    link: CanLink, peer: can.BusABC
) -> None:
    good = encode_dm(Lamps(amber_warning=LampStatus.ON), [Dtc(520192, 3, 2)])

    def ecu() -> None:
        time.sleep(0.05)
        _send(peer, DM1_DRIVE, bytes.fromhex("0400BE00"))
        time.sleep(0.01)
        _send(peer, DM1_DRIVE, good)

    with J1939Client(link.bus, link.notifier) as client:
        sender = threading.Thread(target=ecu)
        sender.start()
        found = client.wait_dm1(0x00, timeout_s=2.0, predicate=lambda dm: dm.find(520192) is not None)
        sender.join()
        assert found.dtcs == (Dtc(520192, 3, 2),)
        assert client.rejects.counts == {"DM1 0x00": 1}


def test_a_timeout_names_what_was_rejected_on_the_way(link: CanLink, peer: can.BusABC) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        _send(peer, DM1_DRIVE, bytes.fromhex("0400BE"))
        cm, packets = bam(FOUR_DTC_PAYLOAD, packets=1)
        _send(peer, TP_CM_DRIVE, cm)
        _send(peer, TP_DT_DRIVE, packets[0])
        with pytest.raises(TimeoutError) as caught:
            client.wait_dm1(0x00, timeout_s=0.3)
    text = str(caught.value)
    assert "no DM1 from source address 0x00 within 0.3 s; rejected on the way:" in text
    assert "DM1 from 0x00 rejected: DM payload: need at least 6 bytes, got 3" in text
    assert "announced 1 packets for 18 bytes" in text


def test_a_bam_with_a_wrong_count_is_not_delivered_truncated_by_the_client(
    link: CanLink, peer: can.BusABC
) -> None:
    with J1939Client(link.bus, link.notifier) as client:
        mark = client.mark()
        for announce in ({"packets": 1}, {}):
            cm, packets = bam(FOUR_DTC_PAYLOAD, **announce)
            _send(peer, TP_CM_DRIVE, cm)
            for packet in packets:
                _send(peer, TP_DT_DRIVE, packet)
        found = client.wait_for(PGN_DM1, 0x00, timeout_s=2.0, after=mark)
        assert found is not None and decode_dm(found.data).dtcs == FOUR_DTCS
        assert len(client.messages(PGN_DM1, 0x00, after=mark)) == 1


# --- garbage, generated ------------------------------------------------------------------------

_tp_frame = st.tuples(
    st.sampled_from(["cm", "dt"]),
    st.one_of(
        st.binary(max_size=12),
        # near-misses of a BAM announce: right control byte, arbitrary size, count and PGN
        st.builds(
            lambda size, count, pgn: (
                bytes([TP_CM_BAM])
                + size.to_bytes(2, "little")
                + bytes([count, 0xFF])
                + pgn.to_bytes(3, "little")
            ),
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFF),
            st.sampled_from([PGN_DM1, 0xFECB, 0x00FFFF]),
        ),
        # plausible packets: a sequence number near the start and seven bytes
        st.builds(lambda n, body: bytes([n]) + body, st.integers(0, 5), st.binary(min_size=7, max_size=7)),
    ),
)


@SETTINGS
@given(garbage=st.lists(_tp_frame, max_size=12))
def test_tp_garbage_is_never_delivered_short_and_a_good_bam_after_it_arrives_whole(
    garbage: list[tuple[str, bytes]],
) -> None:
    reassembler = BamReassembler()
    for now, (kind, data) in enumerate(garbage):
        if kind == "cm":
            reassembler.on_cm(0x00, data, now_s=now * 0.01)
            continue
        done = reassembler.on_dt(0x00, data, now_s=now * 0.01)
        if done is not None:
            # whatever completes was announced consistently and arrived in full, in order
            assert 9 <= len(done[1]) <= 1785
    cm, packets = bam(FOUR_DTC_PAYLOAD)
    reassembler.on_cm(0x00, cm, now_s=1.0)
    delivered = [reassembler.on_dt(0x00, p, now_s=1.0 + 0.01 * (n + 1)) for n, p in enumerate(packets)]
    assert delivered[-1] == (PGN_DM1, FOUR_DTC_PAYLOAD)


@SETTINGS
@given(data=st.binary(max_size=40))
def test_the_dm_decoder_takes_any_bytes_or_says_what_is_wrong(data: bytes) -> None:
    try:
        decoded = decode_dm(data)
    except ValueError as exc:
        assert "DM payload" in str(exc)
    else:
        assert isinstance(decoded, DmMessage)
        assert len(data) >= 6 and len(decoded.dtcs) <= (len(data) - 2) // 4
