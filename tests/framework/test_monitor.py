"""The CAN monitor: latest values, frames since a mark, waits that see a one-frame event, evidence."""

from __future__ import annotations

import gc
import threading
import time

import can
import pytest

from hil import timing
from hil.dut.dbc import load_drive_dbc
from hil.dut.monitor import CanMonitor
from hil.timing import WaitTimeout

DB = load_drive_dbc()
STATUS = DB.get_message_by_name("BMS_Status")


def _status(state: int, counter: int = 0) -> can.Message:
    values = {s.name: 0 for s in STATUS.signals} | {"ContactorState": state, "MessageCounter": counter}
    values["PackVoltage"] = 554.4
    return can.Message(arbitration_id=STATUS.frame_id, data=STATUS.encode(values), is_extended_id=True)


@pytest.fixture
def monitor():
    timing.begin()
    return CanMonitor(DB)


def test_a_message_never_heard_is_an_error_not_a_zero(monitor):
    with pytest.raises(LookupError, match="BMS_Status has not been received"):
        monitor.value("BMS_Status", "ContactorState")
    with pytest.raises(KeyError, match="no message 'BMS_Stats'"):
        monitor.latest("BMS_Stats")


def test_latest_value_and_frames_since_a_mark(monitor):
    monitor.on_message_received(_status(0))
    mark = monitor.mark()
    monitor.on_message_received(_status(1))
    monitor.on_message_received(_status(2))
    assert monitor.value("BMS_Status", "ContactorState") == 2
    assert monitor.value("BMS_Status", "PackVoltage") == pytest.approx(554.4)
    assert [f["ContactorState"] for f in monitor.frames("BMS_Status", since=mark)] == [1, 2]


def test_wait_sees_a_single_frame_event_even_if_it_is_gone_again(monitor):
    def later():
        time.sleep(0.05)
        monitor.on_message_received(_status(4))  # pre-charge failed, for one frame
        monitor.on_message_received(_status(0))

    thread = threading.Thread(target=later)
    thread.start()
    found = monitor.wait("BMS_Status", lambda f: f["ContactorState"] == 4, timeout_s=2.0, what="latch")
    thread.join()
    assert found["ContactorState"] == 4
    assert monitor.value("BMS_Status", "ContactorState") == 0


def test_wait_timeout_reports_the_last_frame(monitor):
    monitor.on_message_received(_status(1))
    with pytest.raises(WaitTimeout) as caught:
        monitor.wait("BMS_Status", lambda f: f["ContactorState"] == 2, timeout_s=0.05, what="closed")
    assert caught.value.last["ContactorState"] == 1


def test_a_frame_of_the_wrong_length_is_rejected_not_raised_into_the_test(monitor):
    """A short INV_Status used to raise cantools' DecodeError from every read of the message."""
    monitor.on_message_received(_status(1))
    inv = DB.get_message_by_name("INV_Status")
    monitor.on_message_received(can.Message(arbitration_id=inv.frame_id, data=b"\x01", is_extended_id=True))
    monitor.on_message_received(
        can.Message(arbitration_id=STATUS.frame_id, data=_status(2).data + b"\x00", is_extended_id=True)
    )
    assert monitor.latest("INV_Status") is None
    assert monitor.value("BMS_Status", "ContactorState") == 1
    assert [f["ContactorState"] for f in monitor.frames("BMS_Status")] == [1]
    assert monitor.rejects.counts == {"INV_Status": 1, "BMS_Status": 1}
    dump = monitor.dump(0.0, time.monotonic() + 1)
    assert "(rejected: INV_Status: 1 data bytes where the DBC has 8" in dump
    assert "(rejected: BMS_Status: 9 data bytes where the DBC has 8" in dump


def test_a_standard_frame_on_a_dbc_number_is_not_that_message(monitor):
    monitor.on_message_received(can.Message(arbitration_id=0x7F3, data=bytes(8), is_extended_id=False))
    monitor.on_message_received(
        can.Message(arbitration_id=STATUS.frame_id & 0x7FF, data=bytes(8), is_extended_id=True)
    )
    assert monitor.rejects.counts == {}
    fake = can.Message(arbitration_id=STATUS.frame_id, data=_status(3).data, is_extended_id=False)
    monitor.on_message_received(fake)
    assert monitor.latest("BMS_Status") is None
    assert monitor.rejects.counts == {"BMS_Status": 1}


def test_a_wait_goes_on_past_a_bad_frame_to_the_good_one(monitor):
    def later():
        time.sleep(0.05)
        monitor.on_message_received(
            can.Message(arbitration_id=STATUS.frame_id, data=b"\x02\x00", is_extended_id=True)
        )
        time.sleep(0.01)
        monitor.on_message_received(_status(2))

    thread = threading.Thread(target=later)
    thread.start()
    found = monitor.wait("BMS_Status", lambda f: f["ContactorState"] == 2, timeout_s=2.0, what="closed")
    thread.join()
    assert found["ContactorState"] == 2 and monitor.rejects.counts == {"BMS_Status": 1}


def test_dump_shows_the_frames_of_a_window_decoded(monitor):
    t0 = time.monotonic()
    monitor.on_message_received(_status(2, counter=5))
    monitor.on_message_received(
        can.Message(arbitration_id=0x18EAFF00, data=b"\xca\xfe\x00", is_extended_id=True)
    )
    text = monitor.dump(t0, time.monotonic())
    lines = text.splitlines()
    assert len(lines) == 2
    assert "BMS_Status" in lines[0] and "ContactorState=2" in lines[0] and "MessageCounter=5" in lines[0]
    assert "18EAFF00" in lines[1] and "CA FE 00" in lines[1]


def test_a_full_ring_adds_nothing_for_the_collector_to_walk(monitor):
    """Each of the collector's full passes holds every thread of the test process still, the VCU's
    TSC1 stream among them, for as long as it walks what it tracks; the ring's frames are not
    among it."""
    gc.collect()
    before = len(gc.get_objects())
    for counter in range(10_000):
        monitor.on_message_received(_status(2, counter % 16))
    gc.collect()
    assert len(gc.get_objects()) - before < 100
    assert len(monitor.frames("BMS_Status")) == 10_000
