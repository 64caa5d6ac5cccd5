"""Each fault the simulator injects into an instrument, met by the framework: the one error naming
the instrument and what happened, its Allure category, the safe state of the other instruments, and
what the run does (a safety-critical instrument's fault is a ``SafetyAbort``, which stops the run:
see test_run_outcome.py)."""

from __future__ import annotations

import pytest
from fault_support import assert_others_safe, category_of, energise

from hil.errors import InstrumentFault, SafetyAbort
from hil.faults import judge
from instruments.errors import InstrumentError, InstrumentReportedError, InstrumentTimeout, MalformedReply


def _meet(bench, action) -> BaseException | None:
    try:
        action()
    except Exception as exc:
        return judge(exc, bench) or exc
    return judge(None, bench)


def test_dropped_connection_of_the_supply_aborts_the_run(fbench, control):
    since = energise(fbench)
    control.arm("supply", "drop")
    verdict = _meet(fbench, fbench.supply.measure_voltage)
    assert isinstance(verdict, SafetyAbort) and isinstance(verdict.__cause__ or verdict, Exception)
    assert str(verdict).startswith("safety abort: supply (TCPIP0::127.0.0.1::"), verdict
    assert category_of(verdict) == ["Safety abort"]
    assert_others_safe(fbench, "supply", since)


def test_silent_instrument_is_asked_three_times_then_named(fbench, control):
    since = energise(fbench)
    control.arm("eload", "silent")
    verdict = _meet(fbench, fbench.eload.measure_current)
    assert isinstance(verdict, InstrumentTimeout), verdict
    assert str(verdict).startswith("eload (TCPIP0::") and "'MEAS:CURR?' (asked 3 times)" in str(verdict)
    assert category_of(verdict) == ["Instrument fault"]  # not safety-critical: the run goes on
    assert_others_safe(fbench, "eload", since)


def test_one_lost_reply_is_retried_and_the_read_succeeds(fbench, control):
    energise(fbench)
    control.arm("supply", "silent", times=1)
    before = len(fbench.service.command_log())
    assert fbench.supply.measure_voltage() > 50.0
    asked = [r["command"] for r in fbench.service.command_log()[before:] if r["instrument"] == "supply"]
    assert asked.count("MEAS:VOLT?") == 2, asked
    assert judge(None, fbench) is None


def test_one_garbled_reply_is_retried_and_the_read_succeeds(fbench, control):
    energise(fbench)
    control.arm("dyno", "malformed", times=1)
    assert abs(fbench.dyno.read().speed_rpm) < 8000


def test_garbled_replies_of_the_load_are_named(fbench, control):
    since = energise(fbench)
    control.arm("eload", "malformed")
    verdict = _meet(fbench, fbench.eload.measure_current)
    assert isinstance(verdict, MalformedReply), verdict
    assert (
        "eload (TCPIP0::" in str(verdict) and "MEAS:CURR?" in str(verdict) and "asked 3 times" in str(verdict)
    )
    assert category_of(verdict) == ["Instrument fault"]
    control.clear("eload")
    assert_others_safe(fbench, None, since)


def test_error_queue_entry_of_the_cell_simulator_aborts_the_run(fbench, control):
    since = len(fbench.service.command_log())
    control.arm("cellsim", "error")  # read back when its protections are programmed, before output on
    verdict = _meet(fbench, lambda: energise(fbench))
    assert isinstance(verdict, SafetyAbort), verdict
    assert isinstance(verdict.__cause__, InstrumentReportedError) if verdict.__cause__ else True
    assert "cellsim (TCPIP0::" in str(verdict) and '-300,"Device-specific error;hardware fault"' in str(
        verdict
    )
    assert category_of(verdict) == ["Safety abort"]
    assert_others_safe(fbench, None, since)


def test_latched_supply_trip_after_a_passing_test_aborts_the_run(fbench, control):
    since = energise(fbench)
    control.arm("supply", "trip")
    verdict = _meet(fbench, lambda: None)
    assert isinstance(verdict, SafetyAbort), verdict
    assert str(verdict).startswith(
        "safety abort: supply: over-voltage protection tripped, output latched off"
    )
    assert category_of(verdict) == ["Safety abort"]
    assert_others_safe(fbench, "supply", since)  # latched off, it never ramps below 60 V


def test_dyno_alarm_aborts_the_run(fbench, control):
    since = energise(fbench)
    control.arm("dyno", "alarm", after=2)
    verdict = _meet(fbench, lambda: [fbench.dyno.read() for _ in range(3)])
    assert isinstance(verdict, SafetyAbort), verdict
    assert str(verdict).startswith("safety abort: dyno: alarm latched"), verdict
    assert category_of(verdict) == ["Safety abort"]
    assert_others_safe(fbench, None, since)


def test_control_port_refuses_what_it_cannot_inject(fbench, control):
    with pytest.raises(ValueError, match="no fault target 'pump'"):
        control.arm("pump", "silent")
    with pytest.raises(ValueError, match="analyzer: a latched protection trip is a supply's"):
        control.arm("analyzer", "trip")
    control.arm("supply", "silent", after=5, times=2)
    assert control.armed() == [
        {"target": "supply", "fault": "silent", "after": 5, "times": 2, "seen": 0, "fired": 0}
    ]
    control.clear()
    assert control.armed() == []


def test_instrument_fault_error_names_the_instrument():
    assert str(InstrumentFault("dyno", "alarm latched")) == "dyno: alarm latched"
    assert issubclass(InstrumentTimeout, InstrumentError)
