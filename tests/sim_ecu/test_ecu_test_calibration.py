"""A UDS test calibration (DID FD10, the over-current trip level for INV-04): who may write it,
within what, and that it never outlives the session that wrote it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sim.ecu.dtc_memory import DtcMemory
from sim.ecu.identity import EcuIdentity
from sim.ecu.uds_server import DID_OVERCURRENT_TRIP_TEST, UdsServer, VolatileCalibration
from tests.sim_ecu.test_ecu_uds_server import ask, unlock

PRODUCTION = 7637  # 763.7 A at 0.1 A/bit


class Level:
    """The ECU's side of the calibration: a value that may only be lowered, down to a floor."""

    def __init__(self) -> None:
        self.raw = PRODUCTION

    def write(self, raw: int) -> bool:
        if not 1500 <= raw <= PRODUCTION:
            return False
        self.raw = raw
        return True

    def restore(self) -> None:
        self.raw = PRODUCTION


@pytest.fixture
def level() -> Level:
    return Level()


@pytest.fixture
def server(clock: Any, identity: EcuIdentity, level: Level) -> UdsServer:
    calibration = VolatileCalibration(2, lambda: level.raw, level.write, level.restore)
    return UdsServer(
        identity,
        DtcMemory(clock=clock),
        clock=clock,
        rng=random.Random(7),
        calibrations={DID_OVERCURRENT_TRIP_TEST: calibration},
    )


def test_reads_the_level_in_force_in_any_session(server: UdsServer) -> None:
    assert ask(server, "22FD10") == f"62FD10{PRODUCTION:04X}"


def test_written_only_unlocked_in_the_extended_session_and_only_lower(
    server: UdsServer, level: Level
) -> None:
    assert ask(server, "2EFD100BB8") == "7F2E7F"  # default session
    ask(server, "1003")
    assert ask(server, "2EFD100BB8") == "7F2E33"  # locked
    unlock(server)
    assert ask(server, "2EFD100B") == "7F2E13"
    assert ask(server, "2EFD10FFFF") == "7F2E31"  # above the production level
    assert ask(server, "2EFD1003E8") == "7F2E31"  # 100 A: below the floor
    assert ask(server, "2EFD100BB8") == "6EFD10"
    assert level.raw == 3000
    assert ask(server, "22FD10") == "62FD100BB8"


@pytest.mark.parametrize("ending", ["1001", "1003", "1101"])
def test_any_session_change_or_reset_restores_the_production_level(
    server: UdsServer, level: Level, ending: str
) -> None:
    ask(server, "1003")
    unlock(server)
    assert ask(server, "2EFD100BB8") == "6EFD10"
    ask(server, ending)
    assert level.raw == PRODUCTION


def test_the_s3_timeout_restores_the_production_level(server: UdsServer, level: Level, clock: Any) -> None:
    ask(server, "1003")
    unlock(server)
    ask(server, "2EFD100BB8")
    clock.advance(5.1)
    server.tick()
    assert level.raw == PRODUCTION
