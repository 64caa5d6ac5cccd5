"""A reading the bench disturbed is taken again (test_suites/disturbance.py): the drive's TSC1 command
timeout as the CAN monitor hears it in INV_Faults, or a capture off the bench's clock; every attempt
disturbed is an error, neither a pass nor a fail."""

from __future__ import annotations

import can
import pytest

from hil import timing
from hil.acquisition import CaptureClockUncertain
from hil.dut.dbc import load_drive_dbc
from hil.dut.monitor import CanMonitor
from test_suites.disturbance import CommandStreamBroken, undisturbed

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
    """``take`` for ``undisturbed``: each attempt hears the INV_Faults frames of its script."""

    def __init__(self, monitor: CanMonitor, script: list[list[can.Message] | Exception]) -> None:
        self.monitor, self.script, self.taken, self.again = monitor, script, 0, 0

    def take(self) -> int:
        heard = self.script[self.taken]
        self.taken += 1
        if isinstance(heard, Exception):
            raise heard
        for frame in heard:
            self.monitor.on_message_received(frame)
        return self.taken

    def back(self) -> None:
        self.again += 1


def test_an_undisturbed_reading_is_taken_once(monitor):
    attempts = Attempts(monitor, [[_faults(), _faults(Overspeed=1)]])
    assert undisturbed(monitor, attempts.take, again=attempts.back) == 1
    assert (attempts.taken, attempts.again) == (1, 0)


def test_a_command_timeout_during_a_reading_takes_it_again_from_where_it_starts(monitor):
    # the timeout heard before the first attempt began is not the attempt's
    monitor.on_message_received(_faults(CanCommandTimeout=1))
    attempts = Attempts(monitor, [[_faults(), _faults(CanCommandTimeout=1), _faults()], [_faults()]])
    assert undisturbed(monitor, attempts.take, again=attempts.back) == 2
    assert (attempts.taken, attempts.again) == (2, 1)


def test_a_capture_off_the_bench_clock_is_taken_again(monitor):
    attempts = Attempts(monitor, [CaptureClockUncertain("the capture started 0.3 s late"), []])
    assert undisturbed(monitor, attempts.take) == 2


def test_every_attempt_disturbed_is_an_error_naming_the_last_disturbance(monitor):
    disturbed = [_faults(CanCommandTimeout=1)]
    attempts = Attempts(monitor, [disturbed, CaptureClockUncertain("late"), disturbed])
    with pytest.raises(CommandStreamBroken, match=r"each of 3 attempts.*timed out its TSC1 command"):
        undisturbed(monitor, attempts.take, again=attempts.back)
    assert (attempts.taken, attempts.again) == (3, 2)


def test_a_timeout_that_is_the_stimulus_disturbs_nothing(monitor):
    attempts = Attempts(monitor, [[_faults(CanCommandTimeout=1)]])
    assert undisturbed(monitor, attempts.take, timeout_expected=True) == 1
