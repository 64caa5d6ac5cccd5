import threading
import time
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
def no_thread_left_behind() -> Iterator[None]:
    """Every bus, notifier and ECU a test starts is stopped by the end of its teardown."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while leftover := [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, f"threads left running: {[t.name for t in leftover]}"
        time.sleep(0.01)
