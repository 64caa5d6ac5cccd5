import uuid
from collections.abc import Callable, Iterator
from typing import Any

import can
import pytest

from hil.dut.can_link import CanLink
from hil.dut.j1939 import J1939Client
from hil.dut.uds import make_uds_client
from sim.ecu.diagnostics import DiagnosticsEcu
from sim.ecu.identity import EcuIdentity

IDENTITY = EcuIdentity(
    part_number="DRV-120K-A01",
    serial_number="SN2011-000042",
    vin="LZYTBGBW5B1000001",
    software_version="FW 1.2.3",
)
ECU_ADDRESS = 0x00


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def identity() -> EcuIdentity:
    return IDENTITY


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def channel() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def make_ecu(channel: str) -> Iterator[Callable[..., DiagnosticsEcu]]:
    """Start a simulated ECU on the test's channel (short DM1 period unless asked); stopped at teardown."""
    started: list[DiagnosticsEcu] = []

    def make(**kwargs: Any) -> DiagnosticsEcu:
        kwargs.setdefault("dm1_period_s", 0.2)
        kwargs.setdefault("rng_seed", 1)
        ecu = DiagnosticsEcu(channel, IDENTITY, **kwargs)
        ecu.start()
        started.append(ecu)
        return ecu

    yield make
    for ecu in started:
        ecu.stop()


@pytest.fixture
def link(channel: str) -> Iterator[CanLink]:
    with CanLink(interface="virtual", channel=channel, receive_own_messages=False) as shared:
        yield shared


@pytest.fixture
def j1939(link: CanLink) -> Iterator[J1939Client]:
    with J1939Client(link.bus, link.notifier) as client:
        yield client


@pytest.fixture
def uds(link: CanLink) -> Iterator[Any]:
    with make_uds_client(link.bus, link.notifier, ECU_ADDRESS) as client:
        yield client


@pytest.fixture
def raw_bus(channel: str) -> Iterator[can.BusABC]:
    """A bare node on the channel, to see frames exactly as sent."""
    bus = can.Bus(interface="virtual", channel=channel, receive_own_messages=False)
    yield bus
    bus.shutdown()


@pytest.fixture(autouse=True)
def _every_test_stops_its_threads(no_thread_left_behind: None) -> None:
    """Every bus, notifier and ECU a test here starts is stopped by the end of its teardown."""
