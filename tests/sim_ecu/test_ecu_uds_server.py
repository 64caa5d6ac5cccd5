"""UDS server rules without CAN, on a fake clock: sessions, S3, security lockout, NRCs."""

import random
from typing import Any

import pytest

from sim.ecu.dtc_memory import DtcMemory
from sim.ecu.identity import EcuIdentity
from sim.ecu.security import expected_key
from sim.ecu.uds_server import UdsDefects, UdsServer


@pytest.fixture
def server(clock: Any, identity: EcuIdentity) -> UdsServer:
    return UdsServer(
        identity, DtcMemory(clock=clock), clock=clock, security_lockout_s=10.0, rng=random.Random(7)
    )


def ask(server: UdsServer, hex_request: str) -> str | None:
    reply = server.handle(bytes.fromhex(hex_request))
    return None if reply.response is None else reply.response.hex().upper()


def unlock(server: UdsServer) -> None:
    seed = server.handle(bytes.fromhex("2701")).response
    assert seed is not None
    assert ask(server, "2702" + expected_key(1, seed[2:]).hex()) == "6702"


def test_session_response_carries_p2_and_p2_star(server: UdsServer) -> None:
    assert ask(server, "1003") == "5003003201F4"  # P2 50 ms, P2* 500 × 10 ms [R]


def test_programming_session_only_from_extended(server: UdsServer) -> None:
    assert ask(server, "1002") == "7F1022"
    ask(server, "1003")
    assert ask(server, "1002") == "5002003201F4"


@pytest.mark.parametrize(
    ("request_hex", "response"),
    [
        ("AA", "7FAA11"),  # unknown service
        ("1004", "7F1012"),  # unknown session
        ("10", "7F1013"),
        ("2701", "7F277F"),  # security access in the default session
        ("2E" + "F190" + "00" * 17, "7F2E7F"),
        ("310102 03", "7F317F"),
        ("1105", "7F1112"),
        ("3E01", "7F3E12"),
        ("3E00", "7E00"),
        ("3E80", None),  # suppress positive response
        ("1401FFFF", "7F1431"),
        ("14FFFF", "7F1413"),
        ("22F1", "7F2213"),
        ("221234", "7F2231"),
        ("190A", "7F1912"),
        ("1906FFFFFF01", "7F1931"),  # no such DTC
    ],
)
def test_negative_responses(server: UdsServer, request_hex: str, response: str | None) -> None:
    assert ask(server, request_hex.replace(" ", "")) == response


def test_write_vin_needs_extended_session_and_security(server: UdsServer) -> None:
    ask(server, "1003")
    vin = b"LZYTBGBW5B1000002".hex()
    assert ask(server, "2EF190" + vin) == "7F2E33"
    assert ask(server, "2EF187" + vin) == "7F2E31"  # not writable
    unlock(server)
    assert ask(server, "2EF190" + vin[:-2]) == "7F2E13"
    assert ask(server, "2EF190" + vin) == "6EF190"
    assert ask(server, "22F190") == "62F190" + vin.upper()


def test_wrong_keys_lock_out_then_the_delay_expires(server: UdsServer, clock: Any) -> None:
    ask(server, "1003")
    for expected in ("7F2735", "7F2735", "7F2736"):
        assert ask(server, "2701") is not None
        assert ask(server, "270200000000") == expected
    assert ask(server, "2701") == "7F2737"
    clock.advance(9.9)
    assert ask(server, "2701") == "7F2737"
    clock.advance(0.2)
    unlock(server)


def test_key_without_seed_is_a_sequence_error(server: UdsServer) -> None:
    ask(server, "1003")
    assert ask(server, "270200000000") == "7F2724"


def test_s3_timeout_returns_to_default_and_locks(server: UdsServer, clock: Any) -> None:
    ask(server, "1003")
    unlock(server)
    clock.advance(4.9)
    server.tick()
    assert (server.session, server.unlocked_level) == (3, 1)
    assert ask(server, "3E80") is None  # tester present keeps the session alive
    clock.advance(4.9)
    server.tick()
    assert server.session == 3
    clock.advance(0.2)
    server.tick()
    assert (server.session, server.unlocked_level) == (1, None)


def test_hard_reset_returns_to_default_and_locks(server: UdsServer) -> None:
    ask(server, "1003")
    unlock(server)
    assert ask(server, "1101") == "5101"
    assert (server.session, server.unlocked_level) == (1, None)


def test_insulation_test_is_slow_and_results_need_a_start(server: UdsServer) -> None:
    ask(server, "1003")
    assert ask(server, "310302 03".replace(" ", "")) == "7F3124"
    reply = server.handle(bytes.fromhex("31010203"))
    assert reply.delay_s == pytest.approx(0.3)
    assert reply.response == bytes.fromhex("71010203001388")  # passed, 5000 kΩ
    assert ask(server, "31030203") == "71030203001388"
    assert ask(server, "3102FF00") == "7F3112"
    assert ask(server, "31011234") == "7F3131"


def test_a_written_vin_survives_a_reset(server: UdsServer) -> None:
    vin = b"LZYTBGBW5B1000002".hex().upper()
    ask(server, "1003")
    unlock(server)
    assert ask(server, "2EF190" + vin) == "6EF190"
    assert ask(server, "1101") == "5101"
    assert ask(server, "22F190") == "62F190" + vin


def defective(clock: Any, identity: EcuIdentity, memory: DtcMemory, **defects: bool) -> UdsServer:
    return UdsServer(identity, memory, clock=clock, rng=random.Random(7), defects=UdsDefects(**defects))


def test_a_volatile_vin_is_lost_at_the_reset(clock: Any, identity: EcuIdentity) -> None:
    server = defective(clock, identity, DtcMemory(clock=clock), vin_volatile=True)
    vin = b"LZYTBGBW5B1000002".hex().upper()
    ask(server, "1003")
    unlock(server)
    assert ask(server, "2EF190" + vin) == "6EF190"
    assert ask(server, "22F190") == "62F190" + vin
    ask(server, "1101")
    assert ask(server, "22F190") == "62F190" + identity.vin.encode().hex().upper()


def test_any_key_defect_unlocks_with_a_wrong_key(clock: Any, identity: EcuIdentity) -> None:
    server = defective(clock, identity, DtcMemory(clock=clock), any_security_key=True)
    ask(server, "1003")
    ask(server, "2701")
    assert ask(server, "270200000000") == "6702"


def test_count_defect_ignores_the_mask_and_clear_defect_keeps_the_passive(
    clock: Any, identity: EcuIdentity
) -> None:
    memory = DtcMemory(clock=clock)
    memory.report(168, 4, True)
    memory.report(110, 0, True)
    memory.report(110, 0, False)
    good = UdsServer(identity, memory, clock=clock)
    assert ask(good, "190101") == "5901FF020001"  # one active of two stored
    server = defective(clock, identity, memory, count_ignores_mask=True, clear_active_only=True)
    assert ask(server, "190101") == "5901FF020002"
    assert ask(server, "14FFFFFF") == "54"
    assert [(r.spn, r.active) for r in memory.records()] == [(110, False)]


def test_self_test_reports_the_units_result(clock: Any, identity: EcuIdentity) -> None:
    server = UdsServer(identity, DtcMemory(clock=clock), clock=clock, self_test_result=0x01)
    ask(server, "1003")
    assert ask(server, "3101FF00") == "7101FF0001"
