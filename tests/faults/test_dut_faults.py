"""Each fault the simulator injects between the bench and the unit, met by the framework's CAN
clients as a scenario uses them (the monitor's ``wait``, the J1939 DM1 wait, a UDS read): the one
``DutCommunicationError`` naming the bus or the ECU and what happened, its Allure category, the
safe state of every instrument, and the run's outcome (not a safety abort: the run goes on)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fault_support import assert_others_safe, category_of, energise

from hil.dut.can_link import CanLink
from hil.dut.dbc import load_drive_dbc
from hil.dut.j1939 import J1939Client
from hil.dut.monitor import CanMonitor
from hil.dut.uds import DID_ECU_SERIAL_NUMBER, make_uds_client
from hil.errors import DutCommunicationError, SafetyAbort
from hil.faults import can_silent, judge
from hil.timing import wait_until

# the verdicts time the bus (no frame for 0.5 s within a wait of 1 s): beside a second worker on two
# cores a wait ended before the silence was named
pytestmark = pytest.mark.serial

DRIVE = 0x00  # the drive's J1939 source address, its UDS ECU address too
# what the run's own fixtures pass on: a wait on CAN that found nothing, judged with the monitor
WAIT_S = 1.0


class Dut:
    """The bench's CAN link with the clients a run opens on it (fixtures/dut.py)."""

    def __init__(self, link: CanLink) -> None:
        self.link = link
        self.monitor = CanMonitor(load_drive_dbc())
        link.notifier.add_listener(self.monitor)
        self.j1939 = J1939Client(link.bus, link.notifier)

    def read_serial(self) -> str:
        with make_uds_client(self.link.bus, self.link.notifier, DRIVE) as client:
            return client.read_data_by_identifier([DID_ECU_SERIAL_NUMBER]).service_data.values[
                DID_ECU_SERIAL_NUMBER
            ]

    def inverter_status(self) -> object:
        return self.monitor.wait("INV_Status", lambda _: True, timeout_s=WAIT_S, what="an INV_Status frame")


@pytest.fixture
def dut(fbench) -> Iterator[Dut]:
    with CanLink(**fbench.can_kwargs) as link:
        the_dut = Dut(link)
        # the unit talks before any fault is armed: a failure below is the fault's
        the_dut.inverter_status()
        assert the_dut.read_serial()
        try:
            yield the_dut
        finally:
            the_dut.j1939.close()


def _silenced(dut: Dut) -> None:
    """Frames the unit sent before the bus fell silent still arrive (a loaded machine holds them in
    its socket buffers): a wait on the silence starts once the last of them has."""
    wait_until(lambda: can_silent(dut.monitor, 0.1), timeout_s=5.0, what="the frames sent before the silence")


def _meet(bench, dut: Dut, action: Callable[[], object]) -> BaseException | None:
    try:
        action()
    except Exception as exc:
        return judge(exc, bench, dut.monitor)
    return judge(None, bench, dut.monitor)


def _outcome_of(verdict: BaseException | None, bench) -> None:
    assert isinstance(verdict, DutCommunicationError), verdict
    assert category_of(verdict) == ["DUT communication"]
    assert not isinstance(verdict, SafetyAbort)  # the run goes on with the next test
    assert judge(None, bench) is None  # no instrument latched anything meanwhile


def test_silent_bus_fails_a_wait_on_a_frame_naming_the_bus(fbench, control, dut):
    since = energise(fbench)
    control.arm("can", "silent")
    _silenced(dut)
    verdict = _meet(fbench, dut, dut.inverter_status)
    assert str(verdict).startswith("drive system: no CAN frame for 0.5 s: the bus is silent ("), verdict
    assert "an INV_Status frame: not reached within 1 s" in str(verdict)
    _outcome_of(verdict, fbench)
    verdict = _meet(fbench, dut, lambda: dut.j1939.wait_dm1(DRIVE, timeout_s=WAIT_S))
    assert str(verdict).startswith("drive system: no CAN frame for 0.5 s: the bus is silent ("), verdict
    assert "no DM1 from source address 0x00" in str(verdict)
    assert_others_safe(fbench, None, since)
    control.clear("can")
    dut.inverter_status()  # the link outlived the silence


def test_bus_off_names_the_link_and_leaves_no_reader_spinning(fbench, control, dut):
    since = energise(fbench)
    control.arm("can", "busoff")
    cpu = time.process_time()
    verdict = _meet(fbench, dut, lambda: dut.j1939.wait_dm1(DRIVE, timeout_s=WAIT_S))
    # a wait of 1 s and a silence check of 0.5 s; a reader polling the closed socket flat out
    # takes a whole core meanwhile
    assert time.process_time() - cpu < 0.75, "the CAN reader spins on the closed link"
    assert str(verdict).startswith(
        "drive system: no CAN frame for 0.5 s: the CAN link is down: socketcand closed the CAN link"
    ), verdict
    assert "no DM1 from source address 0x00" in str(verdict)
    _outcome_of(verdict, fbench)
    verdict = _meet(fbench, dut, dut.read_serial)
    assert str(verdict).startswith("drive system: ECU 0x00 did not answer a UDS request ("), verdict
    assert str(verdict).endswith(
        "; the CAN link is down: socketcand closed the CAN link (its interface went "
        "bus-off, or the server stopped)"
    ), verdict
    _outcome_of(verdict, fbench)
    assert dut.link.rejected["receive CanError"] >= 1
    assert_others_safe(fbench, None, since)


def test_unit_that_stops_answering_uds_is_named(fbench, control, dut):
    since = energise(fbench)
    control.arm("dut", "silent")
    verdict = _meet(fbench, dut, dut.read_serial)
    assert str(verdict).startswith(
        "drive system: ECU 0x00 did not answer a UDS request (ReadDataByIdentifier request: "
    ), verdict
    assert "P2 timeout" in str(verdict) and "CAN link is down" not in str(verdict)
    _outcome_of(verdict, fbench)
    dut.inverter_status()  # the bus itself still carries the unit's frames
    assert_others_safe(fbench, None, since)
