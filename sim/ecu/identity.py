"""What a unit says about itself over UDS: part number, serial number, VIN, software version."""

from __future__ import annotations

from dataclasses import dataclass

# Fixed DID lengths, so that several DIDs can be read in one request; shorter values are padded
# with spaces [E] (the real lengths are the manufacturer's choice). See dbc/README.md.
PART_NUMBER_LENGTH = 16
SERIAL_NUMBER_LENGTH = 16
VIN_LENGTH = 17  # ISO 3779 [R]
SOFTWARE_VERSION_LENGTH = 16


@dataclass(frozen=True)
class EcuIdentity:
    part_number: str  # DID F187
    serial_number: str  # DID F18C
    vin: str  # DID F190 (writable)
    software_version: str  # DID F195

    def __post_init__(self) -> None:
        for name, value, length in (
            ("part_number", self.part_number, PART_NUMBER_LENGTH),
            ("serial_number", self.serial_number, SERIAL_NUMBER_LENGTH),
            ("software_version", self.software_version, SOFTWARE_VERSION_LENGTH),
        ):
            if not value.isascii() or len(value) > length:
                raise ValueError(f"EcuIdentity.{name}={value!r}: must be ASCII, at most {length} characters")
        if not self.vin.isascii() or len(self.vin) != VIN_LENGTH:
            raise ValueError(f"EcuIdentity.vin={self.vin!r}: must be exactly {VIN_LENGTH} ASCII characters")
