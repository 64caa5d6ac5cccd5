"""Tester-side UDS pieces: the SecurityAccess key algorithm (hand-computed vectors) and the DID codecs."""

import re
import threading
from collections.abc import Callable

import pytest
import udsoncan
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from udsoncan.connections import QueueConnection

from hil.dut.uds import (
    ALL_DTC_GROUPS,
    DID_SNAPSHOT_DC_VOLTAGE,
    DID_VIN,
    ROUTINE_SELF_TEST,
    SECURITY_LEVEL_EOL,
    DiagnosticClient,
    PaddedAsciiCodec,
    ScaledCodec,
    client_config,
    security_key,
)


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


# --- negative and malformed responses ----------------------------------------------------------

_UDS_ERRORS = (
    udsoncan.exceptions.NegativeResponseException,
    udsoncan.exceptions.InvalidResponseException,
    udsoncan.exceptions.UnexpectedResponseException,
)
_CALLS: dict[str, Callable[[DiagnosticClient], object]] = {
    "ReadDataByIdentifier": lambda c: c.read_data_by_identifier([DID_VIN, DID_SNAPSHOT_DC_VOLTAGE]),
    "DiagnosticSessionControl": lambda c: c.change_session(3),
    "SecurityAccess": lambda c: c.request_seed(SECURITY_LEVEL_EOL),
    "ReadDTCInformation": lambda c: c.get_dtc_by_status_mask(0x09),
    "RoutineControl": lambda c: c.start_routine(ROUTINE_SELF_TEST),
    "ClearDiagnosticInformation": lambda c: c.clear_dtc(ALL_DTC_GROUPS),
}


def _answer(payload: bytes, call: Callable[[DiagnosticClient], object]) -> object:
    """What ``call`` gives when the ECU answers its request with ``payload``: a result or the error."""
    connection = QueueConnection()
    config = client_config() | {"request_timeout": 2.0}
    with DiagnosticClient(connection, config=config) as client:

        def ecu() -> None:
            connection.touserqueue.get(timeout=2.0)
            connection.fromuserqueue.put(payload)

        responder = threading.Thread(target=ecu)
        responder.start()
        try:
            return call(client)
        except Exception as exc:
            return exc
        finally:
            responder.join()


@pytest.mark.parametrize("service", sorted(_CALLS))
@pytest.mark.parametrize("nrc", [0x10, 0x12, 0x13, 0x22, 0x31, 0x33, 0x35, 0x7F, 0xF0])
def test_a_negative_response_names_the_service_and_the_nrc(service: str, nrc: int) -> None:
    sid = {
        "ReadDataByIdentifier": 0x22,
        "DiagnosticSessionControl": 0x10,
        "SecurityAccess": 0x27,
        "ReadDTCInformation": 0x19,
        "RoutineControl": 0x31,
        "ClearDiagnosticInformation": 0x14,
    }[service]
    error = _answer(bytes([0x7F, sid, nrc]), _CALLS[service])
    assert isinstance(error, udsoncan.exceptions.NegativeResponseException)
    assert error.response.code == nrc
    assert re.match(
        rf"{service} request: {service} service .* negative response .*\(0x{nrc:02x}\)", str(error), re.I
    )


def test_a_did_that_is_not_ascii_names_the_did_and_the_bytes() -> None:
    error = _answer(bytes.fromhex("62F190") + b"WDB\xff" + b"1" * 13, _CALLS["ReadDataByIdentifier"])
    assert isinstance(error, ValueError)
    assert str(error) == (
        "ReadDataByIdentifier request: malformed response: DID 0xF190 is 57 44 42 ff "
        "31 31 31 31 31 31 31 31 31 31 31 31 31, not ASCII text (byte 3 is 0xFF)"
    )


def test_an_answer_of_another_service_names_the_one_asked_for() -> None:
    """udsoncan's own message names the service of the response: "ClearDiagnosticInformation service
    execution returned a valid response but unexpected" to a ReadDataByIdentifier."""
    error = _answer(bytes.fromhex("54"), _CALLS["ReadDataByIdentifier"])
    assert isinstance(error, udsoncan.exceptions.UnexpectedResponseException)
    assert str(error).startswith("ReadDataByIdentifier request: ClearDiagnosticInformation service")
    assert "Received=0x54, Expected=0x62" in str(error)


def test_an_answer_of_no_service_names_the_one_asked_for() -> None:
    error = _answer(b"\x00", _CALLS["SecurityAccess"])
    assert isinstance(error, udsoncan.exceptions.InvalidResponseException)
    assert str(error).startswith("SecurityAccess request: service execution returned an invalid response")
    assert "not a known service response ID" in str(error)


def test_a_short_did_value_says_it_is_incomplete() -> None:
    error = _answer(bytes.fromhex("62F190") + b"WDB", _CALLS["ReadDataByIdentifier"])
    assert isinstance(error, udsoncan.exceptions.InvalidResponseException)
    assert "ReadDataByIdentifier" in str(error) and "0xf190 was incomplete" in str(error)


_responses = st.one_of(
    st.binary(min_size=1, max_size=40),
    # positive responses of each service with an arbitrary tail: the decoders' own ground
    st.builds(
        lambda sid, tail: bytes([sid]) + tail,
        st.sampled_from([0x62, 0x50, 0x67, 0x59, 0x71, 0x54]),
        st.binary(max_size=40),
    ),
    st.builds(
        lambda sid, nrc: bytes([0x7F, sid, nrc]),
        st.sampled_from([0x22, 0x10, 0x27, 0x19, 0x31, 0x14]),
        st.integers(0, 0xFF),
    ),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(service=st.sampled_from(sorted(_CALLS)), payload=_responses)
def test_any_response_gives_a_result_or_an_error_naming_the_service(service: str, payload: bytes) -> None:
    # a response-pending NRC (0x78) makes the client wait P2* for the real answer: not garbage
    assume(not (len(payload) >= 3 and payload[0] == 0x7F and payload[2] == 0x78))
    outcome = _answer(payload, _CALLS[service])
    if isinstance(outcome, Exception):
        assert isinstance(outcome, (*_UDS_ERRORS, ValueError)), repr(outcome)
        assert str(outcome).startswith(f"{service} request: "), outcome
