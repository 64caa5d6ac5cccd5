"""A reading the bench disturbed is taken again (test_suites/disturbance.py): the drive's TSC1 command
timeout as the CAN monitor hears it in INV_Faults, the BMS's heartbeat DTC as DM1 carries it over a
CAN bus, or a capture off the bench's clock; every attempt disturbed is an error, neither a pass nor
a fail."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import can
import pytest

from hil import timing
from hil.acquisition import CaptureClockUncertain
from hil.dut.can_link import CanLink
from hil.dut.dbc import load_drive_dbc
from hil.dut.dtc import Dtc, Lamps, encode_dm
from hil.dut.j1939 import PGN_DM1, J1939Client, compose_id
from hil.dut.monitor import CanMonitor
from hil.product import load_product
from hil.timing import WaitTimeout
from test_suites import disturbance
from test_suites.disturbance import CommandStreamBroken, CommandTimeouts, HeartbeatLosses, undisturbed

DB = load_drive_dbc()
FAULTS = DB.get_message_by_name("INV_Faults")


def _faults(**active: int) -> can.Message:
    values = {s.name: 0 for s in FAULTS.signals} | active
    return can.Message(arbitration_id=FAULTS.frame_id, data=FAULTS.encode(values), is_extended_id=True)


@pytest.fixture
def monitor():
    timing.begin()
    return CanMonitor(DB)


class Attempts:
    """``take`` for ``undisturbed``: each attempt hears the INV_Faults frames of its script, and
    raises the exception where the script has one."""

    def __init__(self, monitor: CanMonitor, script: list[list[can.Message | Exception] | Exception]) -> None:
        self.monitor, self.script, self.taken, self.again = monitor, script, 0, 0

    def take(self) -> int:
        heard = self.script[self.taken]
        self.taken += 1
        if isinstance(heard, Exception):
            raise heard
        for frame in heard:
            if isinstance(frame, Exception):  # the attempt heard what came before, then failed
                raise frame
            self.monitor.on_message_received(frame)
        return self.taken

    def back(self) -> None:
        self.again += 1


def test_an_undisturbed_reading_is_taken_once(monitor):
    attempts = Attempts(monitor, [[_faults(), _faults(Overspeed=1)]])
    assert undisturbed(CommandTimeouts(monitor), attempts.take, again=attempts.back) == 1
    assert (attempts.taken, attempts.again) == (1, 0)


def test_a_command_timeout_during_a_reading_takes_it_again_from_where_it_starts(monitor):
    # the timeout heard before the first attempt began is not the attempt's
    monitor.on_message_received(_faults(CanCommandTimeout=1))
    attempts = Attempts(monitor, [[_faults(), _faults(CanCommandTimeout=1), _faults()], [_faults()]])
    assert undisturbed(CommandTimeouts(monitor), attempts.take, again=attempts.back) == 2
    assert (attempts.taken, attempts.again) == (2, 1)


def test_a_capture_off_the_bench_clock_is_taken_again(monitor):
    attempts = Attempts(monitor, [CaptureClockUncertain("the capture started 0.3 s late"), []])
    assert undisturbed(CommandTimeouts(monitor), attempts.take) == 2


def test_every_attempt_disturbed_is_an_error_naming_the_last_disturbance(monitor):
    disturbed = [_faults(CanCommandTimeout=1)]
    attempts = Attempts(monitor, [disturbed, CaptureClockUncertain("late"), disturbed])
    with pytest.raises(CommandStreamBroken, match=r"each of 3 attempts.*timed out its TSC1 command"):
        undisturbed(CommandTimeouts(monitor), attempts.take, again=attempts.back)
    assert (attempts.taken, attempts.again) == (3, 2)


def test_a_timeout_that_is_the_stimulus_disturbs_nothing(monitor):
    attempts = Attempts(monitor, [[_faults(CanCommandTimeout=1)]])
    assert undisturbed(CommandTimeouts(monitor), attempts.take, timeout_expected=True) == 1


def test_an_attempt_that_failed_while_the_drive_timed_out_is_taken_again(monitor):
    """A protection the disturbance tripped ends the attempt in a wait that times out: taken again."""
    attempts = Attempts(
        monitor, [[_faults(CanCommandTimeout=1), WaitTimeout("closed again", 10.0, None)], []]
    )
    assert undisturbed(CommandTimeouts(monitor), attempts.take, again=attempts.back) == 2
    assert (attempts.taken, attempts.again) == (2, 1)


def test_an_attempt_that_failed_undisturbed_fails_with_its_own_error(monitor):
    attempts = Attempts(monitor, [[_faults(), WaitTimeout("closed again", 10.0, None)], []])
    with pytest.raises(WaitTimeout, match="closed again"):
        undisturbed(CommandTimeouts(monitor), attempts.take, again=attempts.back)
    assert (attempts.taken, attempts.again) == (1, 0)


def test_an_attempt_that_failed_on_the_timeout_it_provoked_fails_with_its_own_error(monitor):
    attempts = Attempts(monitor, [[_faults(CanCommandTimeout=1), WaitTimeout("torque off", 1.0, None)], []])
    with pytest.raises(WaitTimeout, match="torque off"):
        undisturbed(CommandTimeouts(monitor), attempts.take, timeout_expected=True)


PRODUCT = load_product(Path(__file__).resolve().parents[2] / "specs")
HEARTBEAT = PRODUCT.dtc("vcu_timeout")


class Dm1Sender:
    """The unit's side of the bus: DM1 every 50 ms from its address, with the DTCs it holds now."""

    def __init__(self, channel: str) -> None:
        self.bus = can.Bus(interface="virtual", channel=channel)
        self.dtcs: list[Dtc] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.address = int(PRODUCT.value("drive_address", "1"))

    def _run(self) -> None:
        ident = compose_id(6, PGN_DM1, self.address)
        while not self._stop.wait(0.05):
            data = encode_dm(Lamps(), list(self.dtcs))
            self.bus.send(can.Message(arbitration_id=ident, data=data, is_extended_id=True))

    def __enter__(self) -> Dm1Sender:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.bus.shutdown()


@pytest.fixture
def bus_pair():
    channel = f"disturbance-{uuid.uuid4()}"
    with CanLink(interface="virtual", channel=channel) as link, J1939Client(link.bus, link.notifier) as j1939:
        with Dm1Sender(channel) as unit:
            yield j1939, unit


def _heard_dm1(j1939: J1939Client) -> None:
    assert j1939.wait_for(PGN_DM1, int(PRODUCT.value("drive_address", "1")), 2.0) is not None


def test_a_heartbeat_the_bms_lost_during_a_ramp_takes_it_again(bus_pair):
    j1939, unit = bus_pair
    _heard_dm1(j1939)
    ramps = []

    def ramp() -> int:
        ramps.append(1)
        if len(ramps) == 1:
            unit.dtcs = [Dtc(HEARTBEAT.spn, HEARTBEAT.fmi, oc=1)]
            _heard_dm1(j1939)
        return len(ramps)

    # the DTC still active on the second attempt is the first one's, counted once
    assert undisturbed(HeartbeatLosses(j1939, PRODUCT), ramp, again=lambda: None) == 2


def test_a_heartbeat_lost_again_is_counted_again(bus_pair):
    j1939, unit = bus_pair
    unit.dtcs = [Dtc(HEARTBEAT.spn, HEARTBEAT.fmi, oc=1)]
    _heard_dm1(j1939)

    def ramp() -> int:
        unit.dtcs = [Dtc(HEARTBEAT.spn, HEARTBEAT.fmi, oc=unit.dtcs[0].oc + 1)]
        _heard_dm1(j1939)
        return 1

    with pytest.raises(CommandStreamBroken, match="lost the VCU's heartbeat"):
        undisturbed(HeartbeatLosses(j1939, PRODUCT), ramp)


def test_a_heartbeat_dtc_from_before_the_ramp_and_other_dtcs_disturb_nothing(bus_pair):
    j1939, unit = bus_pair
    unit.dtcs = [Dtc(HEARTBEAT.spn, HEARTBEAT.fmi, oc=3)]
    _heard_dm1(j1939)

    def ramp() -> int:
        unit.dtcs = [*unit.dtcs, Dtc(520961, 1, oc=1)]  # the cell trip it ramps to
        return 1

    assert undisturbed(HeartbeatLosses(j1939, PRODUCT), ramp, again=lambda: pytest.fail("taken again")) == 1


def test_a_unit_that_sends_no_dm1_shows_no_heartbeat_loss(monkeypatch):
    monkeypatch.setattr(disturbance, "DM1_WITHIN_S", 0.2)
    with CanLink(interface="virtual", channel=f"disturbance-{uuid.uuid4()}") as link:
        with J1939Client(link.bus, link.notifier) as j1939:
            assert undisturbed(HeartbeatLosses(j1939, PRODUCT), lambda: 7) == 7
