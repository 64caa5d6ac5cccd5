"""J1939-73 diagnostic trouble codes and the DM1/DM2 payload, encoded and decoded in code.

Layout (J1939-73, SPN conversion method CM = 0) [R]; see dbc/README.md and the reference §5.2:

    byte 1  lamps:  MIL bits 8-7, red stop 6-5, amber warning 4-3, protect 2-1
    byte 2  flash:  same bit positions (00 slow, 01 fast, 11 no flash / not available)
    then 4 bytes per DTC:
    byte 3-4  SPN bits 0-15 (little endian)
    byte 5    bits 8-6 SPN bits 16-18, bits 5-1 FMI
    byte 6    bit 8 CM, bits 7-1 occurrence count (OC)

Why not a DBC signal: public DBCs often model the SPN as one contiguous 19-bit field, which is
wrong for SPN > 65535 (reference §5.2 pitfall); the DTC is therefore decoded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

SPN_MAX = (1 << 19) - 1
FMI_MAX = 31
OC_MAX = 127  # 127 = "not available" [R]
DTC_LENGTH = 4
DM_HEADER_LENGTH = 2
SINGLE_FRAME_LENGTH = 8


class LampStatus(IntEnum):
    """Two-bit lamp status of byte 1 [R]."""

    OFF = 0
    ON = 1
    RESERVED = 2
    NOT_AVAILABLE = 3


class FlashStatus(IntEnum):
    """Two-bit flash status of byte 2 [R]."""

    SLOW = 0  # 1 Hz
    FAST = 1  # 2 Hz
    RESERVED = 2
    OFF = 3  # no flash / not available


@dataclass(frozen=True)
class Lamps:
    """The four J1939 lamps with their flash state."""

    mil: LampStatus = LampStatus.OFF
    red_stop: LampStatus = LampStatus.OFF
    amber_warning: LampStatus = LampStatus.OFF
    protect: LampStatus = LampStatus.OFF
    mil_flash: FlashStatus = FlashStatus.OFF
    red_stop_flash: FlashStatus = FlashStatus.OFF
    amber_warning_flash: FlashStatus = FlashStatus.OFF
    protect_flash: FlashStatus = FlashStatus.OFF

    def to_bytes(self) -> bytes:
        status = (self.mil << 6) | (self.red_stop << 4) | (self.amber_warning << 2) | self.protect
        flash = (
            (self.mil_flash << 6)
            | (self.red_stop_flash << 4)
            | (self.amber_warning_flash << 2)
            | self.protect_flash
        )
        return bytes([status, flash])

    @classmethod
    def from_bytes(cls, data: bytes) -> Lamps:
        if len(data) < DM_HEADER_LENGTH:
            raise ValueError(f"lamp bytes: need 2 bytes, got {len(data)}: {data.hex()}")
        status, flash = data[0], data[1]
        return cls(
            mil=LampStatus((status >> 6) & 3),
            red_stop=LampStatus((status >> 4) & 3),
            amber_warning=LampStatus((status >> 2) & 3),
            protect=LampStatus(status & 3),
            mil_flash=FlashStatus((flash >> 6) & 3),
            red_stop_flash=FlashStatus((flash >> 4) & 3),
            amber_warning_flash=FlashStatus((flash >> 2) & 3),
            protect_flash=FlashStatus(flash & 3),
        )


@dataclass(frozen=True)
class Dtc:
    """One J1939 DTC: suspect parameter number, failure mode identifier, occurrence count, CM bit."""

    spn: int
    fmi: int
    oc: int = 0
    cm: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.spn <= SPN_MAX:
            raise ValueError(f"Dtc.spn={self.spn}: must be 0..{SPN_MAX} (19 bits)")
        if not 0 <= self.fmi <= FMI_MAX:
            raise ValueError(f"Dtc.fmi={self.fmi}: must be 0..{FMI_MAX} (5 bits)")
        if not 0 <= self.oc <= OC_MAX:
            raise ValueError(f"Dtc.oc={self.oc}: must be 0..{OC_MAX} (7 bits)")
        if self.cm not in (0, 1):
            raise ValueError(f"Dtc.cm={self.cm}: must be 0 or 1")

    def to_bytes(self) -> bytes:
        """The 4 bytes of the DTC in a DM1/DM2 payload."""
        return bytes(
            [
                self.spn & 0xFF,
                (self.spn >> 8) & 0xFF,
                ((self.spn >> 16) << 5) | self.fmi,
                (self.cm << 7) | self.oc,
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Dtc:
        if len(data) != DTC_LENGTH:
            raise ValueError(f"DTC: need exactly 4 bytes, got {len(data)}: {data.hex()}")
        spn = data[0] | (data[1] << 8) | ((data[2] >> 5) << 16)
        return cls(spn=spn, fmi=data[2] & 0x1F, oc=data[3] & 0x7F, cm=data[3] >> 7)

    @property
    def uds_number(self) -> int:
        """The 3-byte UDS DTC in SAE J1939-73 DTC format (ISO 14229-1 DTCFormatIdentifier 0x02) [R].

        The three bytes are the first three bytes of the J1939 DTC (SPN low, SPN mid, SPN high | FMI),
        read as DTCHighByte, DTCMiddleByte, DTCLowByte.
        """
        return int.from_bytes(self.to_bytes()[:3], "big")

    @classmethod
    def from_uds_number(cls, number: int, oc: int = 0) -> Dtc:
        if not 0 <= number <= 0xFFFFFF:
            raise ValueError(f"UDS DTC number 0x{number:X}: must fit 3 bytes")
        return cls.from_bytes(number.to_bytes(3, "big") + bytes([oc]))

    @property
    def key(self) -> tuple[int, int]:
        """(SPN, FMI): what identifies a fault, regardless of how often it occurred."""
        return (self.spn, self.fmi)


@dataclass(frozen=True)
class DmMessage:
    """A decoded DM1 (active) or DM2 (previously active) payload."""

    lamps: Lamps = field(default_factory=Lamps)
    dtcs: tuple[Dtc, ...] = ()

    def find(self, spn: int, fmi: int | None = None) -> Dtc | None:
        """The DTC with this SPN (and FMI, if given), or None."""
        for dtc in self.dtcs:
            if dtc.spn == spn and (fmi is None or dtc.fmi == fmi):
                return dtc
        return None


_NO_DTC = bytes(DTC_LENGTH)


def encode_dm(lamps: Lamps, dtcs: Sequence[Dtc]) -> bytes:
    """DM1/DM2 payload: 8 bytes (padded with 0xFF) for zero or one DTC, 2 + 4·n bytes for more.

    With no DTC the DTC field is all zero (SPN 0, FMI 0, OC 0) [R].
    """
    body = b"".join(dtc.to_bytes() for dtc in dtcs) if dtcs else _NO_DTC
    payload = lamps.to_bytes() + body
    return payload.ljust(SINGLE_FRAME_LENGTH, b"\xff")


def decode_dm(data: bytes) -> DmMessage:
    """Decode a DM1/DM2 payload (single frame or reassembled transport-protocol data).

    Trailing 0xFF padding and the all-zero "no DTC" entry are not DTCs.
    """
    if len(data) < DM_HEADER_LENGTH + DTC_LENGTH:
        raise ValueError(f"DM payload: need at least 6 bytes, got {len(data)}: {data.hex()}")
    if len(data) > SINGLE_FRAME_LENGTH and (len(data) - DM_HEADER_LENGTH) % DTC_LENGTH:
        # a transport-protocol DM is exactly lamps + whole DTCs: anything else lost or gained bytes
        raise ValueError(
            f"DM payload of {len(data)} bytes: a multi-frame DM carries 2 + 4·n bytes: {data.hex()}"
        )
    lamps = Lamps.from_bytes(data[:DM_HEADER_LENGTH])
    dtcs = []
    body = data[DM_HEADER_LENGTH:]
    for start in range(0, len(body) - DTC_LENGTH + 1, DTC_LENGTH):
        chunk = body[start : start + DTC_LENGTH]
        if chunk == _NO_DTC or chunk == b"\xff" * DTC_LENGTH:
            continue
        dtcs.append(Dtc.from_bytes(chunk))
    return DmMessage(lamps=lamps, dtcs=tuple(dtcs))
