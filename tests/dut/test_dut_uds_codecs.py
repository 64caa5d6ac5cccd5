"""Tester-side UDS pieces: the SecurityAccess key algorithm (hand-computed vectors) and the DID codecs."""

import pytest

from hil.dut.uds import PaddedAsciiCodec, ScaledCodec, client_config, security_key


@pytest.mark.parametrize(
    ("level", "seed", "key"),
    [
        # key = rotl32(seed XOR constant, 7): 0x12345678 ^ 0x5A3C9E17 = 0x4808C86F → 0x046437A4
        (0x01, "12345678", "046437A4"),
        # 0x00000001 ^ 0xC3D2E1F0 = 0xC3D2E1F1 → 0xE970F8E1
        (0x03, "00000001", "E970F8E1"),
    ],
)
def test_security_key_vectors(level: int, seed: str, key: str) -> None:
    assert security_key(level, bytes.fromhex(seed)) == bytes.fromhex(key)


def test_security_key_refuses_unknown_level_and_bad_seed() -> None:
    with pytest.raises(ValueError, match="level 0x05"):
        security_key(0x05, bytes(4))
    with pytest.raises(ValueError, match="4 bytes"):
        security_key(0x01, bytes(3))


def test_padded_ascii_codec() -> None:
    codec = PaddedAsciiCodec(16)
    assert codec.encode("FW 1.2.3") == b"FW 1.2.3        "
    assert codec.decode(b"FW 1.2.3        ") == "FW 1.2.3"
    with pytest.raises(ValueError, match="at most 16"):
        codec.encode("X" * 17)


def test_scaled_codec_and_not_available() -> None:
    voltage = ScaledCodec(2, 0.1)
    assert voltage.encode(735.2) == bytes.fromhex("1CB8")
    assert voltage.decode(bytes.fromhex("1CB8")) == pytest.approx(735.2)
    assert voltage.decode(b"\xff\xff") is None
    assert ScaledCodec(1, 1.0, offset=-40.0).decode(bytes([100])) == 60.0


def test_client_config_keeps_its_own_timing() -> None:
    config = client_config()
    assert config["use_server_timing"] is False
    assert 0.05 < config["p2_timeout"] < config["p2_star_timeout"]
    assert set(config["data_identifiers"]) >= {0xF187, 0xF18C, 0xF190, 0xF195}
