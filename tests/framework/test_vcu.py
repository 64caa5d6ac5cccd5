"""The VCU the bench plays: what it puts on the bus, frame by frame, decoded with the drive DBC."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from types import SimpleNamespace

import can
import pytest

from hil.dut import vcu as vcu_module
from hil.dut.dbc import load_drive_dbc
from hil.dut.vcu import ControlMode, Vcu, VcuError
from tests.nice import nice_of, raised_nice

DB = load_drive_dbc()


@pytest.fixture
def buses():
    channel = f"vcu-{uuid.uuid4().hex[:8]}"
    sender = can.Bus(interface="virtual", channel=channel)
    listener = can.Bus(interface="virtual", channel=channel)
    yield sender, listener
    sender.shutdown()
    listener.shutdown()


def _collect(bus: can.BusABC, name: str, count: int, timeout_s: float = 2.0) -> list[dict]:
    frame_id = DB.get_message_by_name(name).frame_id
    found = []
    while len(found) < count:
        message = bus.recv(timeout=timeout_s)
        assert message is not None, f"{name}: only {len(found)} frames of {count}"
        if message.arbitration_id == frame_id:
            found.append(DB.decode_message(frame_id, message.data, decode_choices=False))
    return found


def test_torque_request_goes_out_every_period_in_percent_of_the_reference(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, tsc1_period_s=0.01, heartbeat_period_s=0.1).start()
    try:
        vcu.request_torque(250.0)
        frames = _collect(listener, "TSC1", 30)[-10:]
    finally:
        vcu.stop()
    assert all(f["OverrideControlMode"] == ControlMode.TORQUE for f in frames)
    assert all(f["RequestedTorqueLimit"] == 25 for f in frames)
    counters = [f["MessageCounter"] for f in frames]
    assert all((b - a) % 16 == 1 for a, b in itertools.pairwise(counters))


def test_heartbeat_carries_the_contactor_request_and_a_counter(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, heartbeat_period_s=0.02).start()
    try:
        vcu.close_contactors(True)
        frames = _collect(listener, "VCU_BmsCommand", 8)[-3:]
        vcu.fault_reset()
        reset = _collect(listener, "VCU_BmsCommand", 5)
    finally:
        vcu.stop()
    assert all(f["CloseContactors"] == 1 and f["FaultReset"] == 0 for f in frames)
    assert sum(f["FaultReset"] for f in reset) == 1


def test_speed_request(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0).start()
    try:
        vcu.request_speed(1500.0)
        frame = _collect(listener, "TSC1", 20)[-1]
    finally:
        vcu.stop()
    assert frame["OverrideControlMode"] == ControlMode.SPEED and frame["RequestedSpeedLimit"] == 1500.0


@pytest.mark.parametrize("torque", [1300.0, -1300.0, float("nan"), float("inf")])
def test_a_torque_outside_the_signal_is_refused_and_the_request_kept(buses, torque):
    sender, _ = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0)
    vcu.request_torque(100.0)
    with pytest.raises(VcuError, match="RequestedTorqueLimit"):
        vcu.request_torque(torque)
    assert vcu.torque_request_nm == 100.0


def test_a_stopped_stream_stops(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, tsc1_period_s=0.01, heartbeat_period_s=0.5).start()
    try:
        _collect(listener, "TSC1", 3)
        vcu.hold_torque_requests()
        while listener.recv(timeout=0.05) is not None:
            pass  # what was already on its way
        tsc1 = DB.get_message_by_name("TSC1").frame_id
        later = [m for m in iter(lambda: listener.recv(timeout=0.2), None) if m.arbitration_id == tsc1]
        assert later == []
    finally:
        vcu.stop()


def test_the_time_of_the_last_torque_request_is_kept(buses):
    """A command-timeout scenario (INV-16) times the drive from the last TSC1 frame sent."""
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, tsc1_period_s=0.01, heartbeat_period_s=0.5)
    assert vcu.last_torque_request_s is None
    vcu.start()
    try:
        _collect(listener, "TSC1", 3)
        before = time.monotonic()
        vcu.hold_torque_requests()
        after = time.monotonic()
        tsc1 = DB.get_message_by_name("TSC1").frame_id
        while (message := listener.recv(timeout=0.1)) is not None:
            if message.arbitration_id == tsc1:
                assert time.monotonic() < after + 0.05, "TSC1 went on after the hold"
        last = vcu.last_torque_request_s
    finally:
        vcu.stop()
    # a period before the hold, or a frame already on its way as it came (loaded machine: slack)
    assert last is not None and before - 0.05 <= last <= after + 0.01


def test_a_request_is_timed_by_the_first_frame_that_carries_it(buses, monkeypatch):
    """A frame encoded just before a request goes out after it: its time is not the request's
    (INV-05 times torque steps, TX-01 throttle changes by it)."""
    sender, _ = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0)
    made: list[int] = []

    def request_as_the_frame_goes():  # between the frame's encoding and its send
        if not made:
            made.append(vcu.request_torque(250.0))
        return time.monotonic()

    monkeypatch.setattr(vcu_module, "time", SimpleNamespace(monotonic=request_as_the_frame_goes))
    frame = can.Message(arbitration_id=DB.get_message_by_name("TSC1").frame_id, is_extended_id=True)
    vcu._next_tsc1(frame)
    (request,) = made
    assert DB.decode_message("TSC1", frame.data)["RequestedTorqueLimit"] == 0.0
    assert vcu.last_torque_request_s is not None and vcu.request_sent_s(request) is None
    vcu._next_tsc1(frame)
    assert DB.decode_message("TSC1", frame.data)["RequestedTorqueLimit"] == 25.0
    assert vcu.request_sent_s(request) == vcu.last_torque_request_s
    vcu._next_tsc1(frame)  # a later frame with the same request: the first one's time stays
    assert vcu.request_sent_s(request) < vcu.last_torque_request_s
    assert vcu.request_sent_s(request + 1) is None


def test_a_request_on_the_running_stream_is_carried_from_its_time_on(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, tsc1_period_s=0.005)
    vcu.start_torque_requests()
    try:
        for torque_nm in (100.0, 200.0, 300.0):
            request = vcu.request_torque(torque_nm)
            sent = vcu.wait_sent(
                request, timeout_s=2.0, poll_s=0.001, what=f"a TSC1 frame carrying {torque_nm} N·m"
            )
            while listener.recv(timeout=0) is not None:
                pass  # what went out before
            (after,) = _collect(listener, "TSC1", 1)
            assert after["RequestedTorqueLimit"] == torque_nm / 10.0 and sent <= time.monotonic()
    finally:
        vcu.stop()


def test_the_time_of_the_last_heartbeat_is_kept(buses):
    sender, listener = buses
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0, heartbeat_period_s=0.02)
    assert vcu.last_heartbeat_s is None
    vcu.start_heartbeat()
    try:
        _collect(listener, "VCU_BmsCommand", 4)
        vcu.stop_heartbeat()
        while listener.recv(timeout=0.05) is not None:
            pass  # what was already on its way
        last = vcu.last_heartbeat_s
        frame_id = DB.get_message_by_name("VCU_BmsCommand").frame_id
        later = [m for m in iter(lambda: listener.recv(timeout=0.1), None) if m.arbitration_id == frame_id]
        assert later == []
        assert vcu.last_heartbeat_s == last
    finally:
        vcu.stop()


def test_the_streams_run_ahead_of_ordinary_work_and_the_caller_does_not(buses):
    """Both streams' threads at nice -10 where the process may raise a thread, as the simulated
    drive's CAN threads run: one held back behind them reads as a lost command or heartbeat."""
    sender, _ = buses
    own = nice_of(threading.get_native_id())
    expected = raised_nice()
    vcu = Vcu(sender, DB, reference_torque_nm=1000.0).start()
    try:
        assert nice_of(vcu._tsc1_task.thread.native_id) == expected
        assert nice_of(vcu._heartbeat_task.thread.native_id) == expected
        assert nice_of(threading.get_native_id()) == own
    finally:
        vcu.stop()
