"""The simulated firmware's SecurityAccess key algorithm (the ECU's side).

A stand-in for a proprietary algorithm [E], documented in dbc/README.md:
key = rotate_left_32(seed XOR constant[level], 7), seed and key 4 bytes big endian.
Kept apart from the tester's implementation (hil/dut/uds.py) on purpose.
"""

from __future__ import annotations

LEVEL_CONSTANTS = {0x01: 0x5A3C9E17, 0x03: 0xC3D2E1F0}


def expected_key(level: int, seed: bytes) -> bytes:
    value = int.from_bytes(seed, "big") ^ LEVEL_CONSTANTS[level]
    rotated = ((value << 7) | (value >> 25)) & 0xFFFFFFFF
    return rotated.to_bytes(4, "big")
