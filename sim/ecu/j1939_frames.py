"""The simulated firmware's own J1939 encoder: identifiers, DTCs, DM1/DM2 payloads, BAM, ACK.

Written independently of ``hil.dut`` on purpose (see the package docstring). Layouts: J1939-21
(identifier, transport, acknowledgment) and J1939-73 (DM1, CM = 0) [R], as in reference §5.
"""

from __future__ import annotations

from collections.abc import Iterable

PGN_REQUEST = 59904
PGN_ACK = 59392
PGN_TP_CM = 60416
PGN_TP_DT = 60160
PGN_DM1 = 65226
PGN_DM2 = 65227
PGN_DM3 = 65228
PGN_DM11 = 65235

GLOBAL = 0xFF
BAM_CONTROL = 32
ACK_POSITIVE = 0
ACK_NEGATIVE = 1
PRIORITY_DM = 6  # DM1/DM2 default priority [R]
PRIORITY_TP = 7  # TP.CM/TP.DT default priority [R]


def can_id(priority: int, pgn: int, source: int, destination: int = GLOBAL) -> int:
    pdu_format = (pgn >> 8) & 0xFF
    specific = destination if pdu_format < 240 else pgn & 0xFF
    data_page = (pgn >> 16) & 0x3
    return (priority << 26) | (data_page << 24) | (pdu_format << 16) | (specific << 8) | source


def split_id(identifier: int) -> tuple[int, int, int]:
    """(PGN, source, destination) of a 29-bit id; destination GLOBAL for PDU2."""
    pdu_format = (identifier >> 16) & 0xFF
    specific = (identifier >> 8) & 0xFF
    data_page = (identifier >> 24) & 0x3
    if pdu_format >= 240:
        return (data_page << 16) | (pdu_format << 8) | specific, identifier & 0xFF, GLOBAL
    return (data_page << 16) | (pdu_format << 8), identifier & 0xFF, specific


def dtc_bytes(spn: int, fmi: int, occurrences: int) -> bytes:
    """One 4-byte DTC: SPN low 16 bits LE, then SPN bits 16-18 in the top 3 bits of byte 3 over a
    5-bit FMI, then CM = 0 and the 7-bit occurrence count."""
    return bytes(
        [spn & 0xFF, (spn >> 8) & 0xFF, (((spn >> 16) & 0x7) << 5) | (fmi & 0x1F), min(occurrences, 126)]
    )


def dtc_bytes_contiguous_spn(spn: int, fmi: int, occurrences: int) -> bytes:
    """A defect: the SPN as one contiguous 19-bit little-endian field with the FMI above it, as some
    public DBCs model it (reference §5.2 pitfall). Right only for SPN < 65536 with FMI 0."""
    raw = (spn & 0x7FFFF) | ((fmi & 0x1F) << 19) | (min(occurrences, 126) << 24)
    return raw.to_bytes(4, "little")


def lamp_bytes(mil: bool, red_stop: bool, amber: bool, protect: bool) -> bytes:
    """Byte 1: MIL bits 8-7, red stop 6-5, amber 4-3, protect 2-1 (01 on, 00 off); byte 2: no flash."""
    status = (int(mil) << 6) | (int(red_stop) << 4) | (int(amber) << 2) | int(protect)
    return bytes([status, 0xFF])


def dm_payload(lamps: bytes, dtcs: Iterable[bytes]) -> bytes:
    """DM1/DM2 data: lamps + DTCs; zero DTCs → one all-zero DTC; padded to 8 bytes with 0xFF."""
    body = b"".join(dtcs) or bytes(4)
    data = lamps + body
    return data + b"\xff" * (8 - len(data)) if len(data) < 8 else data


def bam_frames(pgn: int, data: bytes) -> tuple[bytes, list[bytes]]:
    """TP.CM BAM announce and the TP.DT packets (7 bytes each, last one padded with 0xFF)."""
    packets = (len(data) + 6) // 7
    announce = bytes([BAM_CONTROL]) + len(data).to_bytes(2, "little") + bytes([packets, 0xFF])
    announce += pgn.to_bytes(3, "little")
    chunks = []
    for index in range(packets):
        chunk = data[index * 7 : index * 7 + 7]
        chunks.append(bytes([index + 1]) + chunk + b"\xff" * (7 - len(chunk)))
    return announce, chunks


def ack_payload(control: int, requester: int, pgn: int) -> bytes:
    """Acknowledgment (PGN 59392): control, group function 0xFF, 2 reserved, address, PGN (3 LE)."""
    return bytes([control, 0xFF, 0xFF, 0xFF, requester]) + pgn.to_bytes(3, "little")
