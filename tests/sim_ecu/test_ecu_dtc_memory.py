"""Fault memory: ISO 14229 status bits, occurrence count, clears and re-detection, aging."""

from typing import Any

import pytest

from sim.ecu.dtc_memory import DtcMemory, Lamp, Status


def test_failure_sets_status_counts_and_keeps_first_snapshot(clock: Any) -> None:
    memory = DtcMemory(clock=clock)
    memory.report(168, 4, True, snapshot={"dc_voltage_v": 390.0}, lamp=Lamp.RED_STOP)
    record = memory.find(168, 4)
    assert record is not None
    assert record.status == (
        Status.TEST_FAILED
        | Status.TEST_FAILED_THIS_OPERATION_CYCLE
        | Status.PENDING
        | Status.CONFIRMED
        | Status.TEST_FAILED_SINCE_LAST_CLEAR
        | Status.WARNING_INDICATOR_REQUESTED
    )
    memory.report(168, 4, True)  # still failing: no new occurrence
    memory.report(168, 4, False)
    memory.report(168, 4, True, snapshot={"dc_voltage_v": 380.0})
    record = memory.find(168, 4)
    assert record is not None
    assert record.occurrences == 2
    assert record.snapshot == {"dc_voltage_v": 390.0}


def test_passing_keeps_the_dtc_as_previously_active(clock: Any) -> None:
    memory = DtcMemory(clock=clock)
    memory.report(168, 4, True)
    memory.report(168, 4, False)
    record = memory.find(168, 4)
    assert record is not None and not record.active
    assert record.status & Status.CONFIRMED and not record.status & Status.WARNING_INDICATOR_REQUESTED
    assert [r.spn for r in memory.previously_active()] == [168]
    assert memory.active() == []


def test_clear_active_redetects_a_persisting_fault_after_the_delay(clock: Any) -> None:
    memory = DtcMemory(clock=clock, redetect_delay_s=0.2)
    memory.report(168, 4, True)
    memory.report(110, 0, True)
    memory.report(110, 0, False)
    memory.clear_active()
    memory.tick()
    assert [r.spn for r in memory.records()] == [110]  # DM11 leaves the previously active one
    clock.advance(0.25)
    memory.tick()
    record = memory.find(168, 4)
    assert record is not None and record.active and record.occurrences == 1
    memory.clear_previously_active()
    assert [r.spn for r in memory.records()] == [168]


def test_cleared_fault_that_went_away_stays_cleared(clock: Any) -> None:
    memory = DtcMemory(clock=clock)
    memory.report(168, 4, True)
    memory.clear_all()
    memory.report(168, 4, False)
    clock.advance(1.0)
    memory.tick()
    assert memory.records() == []


def test_operation_cycles_age_a_passed_dtc_out(clock: Any) -> None:
    memory = DtcMemory(clock=clock, aging_threshold=3)
    memory.report(168, 4, True)
    memory.report(168, 4, False)
    memory.new_operation_cycle()  # the cycle it failed in: no aging yet
    record = memory.find(168, 4)
    assert record is not None and record.aging_cycles == 0
    assert record.status & Status.TEST_NOT_COMPLETED_THIS_OPERATION_CYCLE
    assert not record.status & Status.TEST_FAILED_THIS_OPERATION_CYCLE
    for _ in range(3):
        memory.new_operation_cycle()
    assert memory.find(168, 4) is None


def test_bad_reports_are_refused_naming_the_problem(clock: Any) -> None:
    memory = DtcMemory(clock=clock)
    with pytest.raises(ValueError, match="spn"):
        memory.report(1 << 19, 0, True)
    with pytest.raises(ValueError, match="fmi"):
        memory.report(1, 32, True)
    with pytest.raises(ValueError, match="voltage"):
        memory.report(1, 0, True, snapshot={"voltage": 1.0})
