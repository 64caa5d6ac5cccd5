import uuid
from collections.abc import Iterator

import can
import pytest

from hil.dut.can_link import CanLink


@pytest.fixture
def channel() -> str:
    """A virtual CAN channel of this test alone."""
    return f"test-{uuid.uuid4()}"


@pytest.fixture
def link(channel: str) -> Iterator[CanLink]:
    with CanLink(interface="virtual", channel=channel, receive_own_messages=False) as shared:
        yield shared


@pytest.fixture
def peer(channel: str) -> Iterator[can.BusABC]:
    """Another node on the channel, to send hand-written frames from."""
    bus = can.Bus(interface="virtual", channel=channel, receive_own_messages=False)
    yield bus
    bus.shutdown()


@pytest.fixture(autouse=True)
def _every_test_stops_its_threads(no_thread_left_behind: None) -> None:
    """Every bus, notifier and ECU a test here starts is stopped by the end of its teardown."""
