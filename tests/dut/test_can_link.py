"""The shared CAN link outlives any frame: one a bus cannot carry, one a listener chokes on, a receive
that fails. Before, any of them ended python-can's notifier thread and every later wait timed out."""

from __future__ import annotations

import itertools
import threading
import time

import can
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.dut.can_link import CanLink, frame_problem
from hil.dut.dbc import load_drive_dbc
from hil.dut.dtc import Dtc, Lamps, decode_dm, encode_dm
from hil.dut.j1939 import PGN_DM1, J1939Client
from hil.dut.monitor import CanMonitor
from hil.timing import wait_until
from tests.nice import nice_of, raised_nice

DM1_DRIVE = 0x18FECA00


def _dm1(peer: can.BusABC, oc: int) -> None:
    data = encode_dm(Lamps(), [Dtc(520192, 3, oc)])
    peer.send(can.Message(arbitration_id=DM1_DRIVE, data=data, is_extended_id=True))


def _next_dm1(client: J1939Client, oc: int, after: int) -> None:
    """The DM1 with occurrence count ``oc`` arrived after ``after`` and decodes to its one DTC."""
    found = client.wait_for(
        PGN_DM1,
        0x00,
        timeout_s=2.0,
        after=after,
        predicate=lambda m: decode_dm(m.data).find(520192, 3) == Dtc(520192, 3, oc),
    )
    assert found is not None, f"no DM1 with OC {oc}: the link stopped"
    assert decode_dm(found.data).dtcs == (Dtc(520192, 3, oc),)


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (
            can.Message(arbitration_id=0x1F_FFFF_FFFF, data=b"\x00", is_extended_id=True),
            "does not fit 29 bits",
        ),
        (can.Message(arbitration_id=0x800, data=b"\x00", is_extended_id=False), "beyond 0x7FF"),
        (can.Message(arbitration_id=DM1_DRIVE, data=bytes(9), is_extended_id=True), "9 data bytes"),
        (can.Message(arbitration_id=DM1_DRIVE, data=bytes(64), is_extended_id=True), "64 data bytes"),
        (can.Message(arbitration_id=DM1_DRIVE, data=bytes(10), is_fd=True), "no CAN FD frame length"),
    ],
)
def test_a_frame_no_bus_carries_is_rejected_and_the_link_goes_on(
    link: CanLink, peer: can.BusABC, frame: can.Message, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert problem in frame_problem(frame)[1]
    with J1939Client(link.bus, link.notifier) as client:
        peer.send(frame)
        peer.send(frame)
        mark = client.mark()
        _dm1(peer, 5)
        _next_dm1(client, 5, mark)
    assert sum(link.rejected.values()) == 2
    logged = [r.getMessage() for r in caplog.records if "rejected frame" in r.getMessage()]
    assert len(logged) == 1 and problem in logged[0]  # logged once, counted each time


def test_a_listener_that_raises_neither_stops_the_link_nor_starves_the_others(
    link: CanLink, peer: can.BusABC
) -> None:
    def choking(msg: can.Message) -> None:
        raise RuntimeError("cannot take it")

    link.notifier.add_listener(choking)
    with J1939Client(link.bus, link.notifier) as client:
        mark = client.mark()
        _dm1(peer, 6)
        _next_dm1(client, 6, mark)
        mark = client.mark()
        _dm1(peer, 7)
        _next_dm1(client, 7, mark)
    link.notifier.remove_listener(choking)
    (kind,) = link.rejected
    assert "choking" in kind and link.rejected[kind] >= 2


def test_a_receive_that_raises_does_not_end_the_link(link: CanLink, peer: can.BusABC) -> None:
    receive = link.bus.recv
    failures = itertools.count()

    def failing_twice(timeout: float | None = None) -> can.Message | None:
        if next(failures) < 2:
            raise can.CanError("Failed to receive: could not convert string to float: 'send'")
        return receive(timeout)

    link.bus.recv = failing_twice  # type: ignore[method-assign]
    with J1939Client(link.bus, link.notifier) as client:
        deadline = time.monotonic() + 2.0
        while link.rejected["receive CanError"] < 2:
            assert time.monotonic() < deadline, f"the reader did not call again: {link.rejected}"
            time.sleep(0.005)
        mark = client.mark()
        _dm1(peer, 8)
        _next_dm1(client, 8, mark)
    assert link.rejected == {"receive CanError": 2}


_frames = st.builds(
    lambda can_id, extended, fd, data: can.Message(
        arbitration_id=can_id, is_extended_id=extended, is_fd=fd, data=data, check=False
    ),
    st.one_of(st.integers(0, 0x7FF), st.integers(0, 0x1FFFFFFF), st.integers(0, 1 << 40)),
    st.booleans(),
    st.booleans(),
    st.binary(max_size=70),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(frames=st.lists(_frames, min_size=1, max_size=6))
def test_after_any_frames_a_later_dm1_is_received_and_decoded(frames: list[can.Message]) -> None:
    # one link for every example, built here: hypothesis runs the body many times per fixture
    oc = next(_OCCURRENCE)
    with CanLink(interface="virtual", channel=_CHANNEL, receive_own_messages=False) as link:
        monitor = CanMonitor(load_drive_dbc())
        link.notifier.add_listener(monitor)
        peer = can.Bus(interface="virtual", channel=_CHANNEL, receive_own_messages=False)
        try:
            with J1939Client(link.bus, link.notifier) as client:
                for frame in frames:
                    peer.send(frame)
                mark = client.mark()
                _dm1(peer, oc)
                _next_dm1(client, oc, mark)
        finally:
            peer.shutdown()


_CHANNEL = "test-can-link-any-frame"
_OCCURRENCE = itertools.cycle(range(1, 127))


def test_the_reader_runs_ahead_of_ordinary_work_where_the_process_may_raise_it(link: CanLink) -> None:
    expected = raised_nice()
    readers = [r for r in link.notifier._readers if isinstance(r, threading.Thread)]
    assert readers
    for reader in readers:  # it raises itself as it starts: it may not have yet
        wait_until(
            lambda r=reader: nice_of(r.native_id),
            lambda nice: nice == expected,
            timeout_s=2.0,
            what="the CAN link reader's nice value",
            poll_s=0.01,
        )
