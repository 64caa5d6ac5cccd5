"""Fault memory: ISO 14229 status bits, occurrence count, clears and re-detection, aging."""

from typing import Any

import pytest

from sim.ecu.dtc_memory import DtcMemory, Lamp, MemoryDefects, Status


def test_failure_sets_status_counts_and_keeps_the_snapshot_of_the_latest_failure(clock: Any) -> None:
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
    memory.report(168, 4, True, snapshot={"dc_voltage_v": 395.0})  # still failing: no new occurrence
    assert memory.find(168, 4).snapshot == {"dc_voltage_v": 390.0}
    memory.report(168, 4, False, snapshot={"dc_voltage_v": 12.0})
    memory.report(168, 4, True, snapshot={"dc_voltage_v": 380.0})
    record = memory.find(168, 4)
    assert record is not None
    assert record.occurrences == 2
    assert record.snapshot == {"dc_voltage_v": 380.0}


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


def test_a_confirmation_delay_holds_a_new_failure_back(clock: Any) -> None:
    memory = DtcMemory(clock=clock, confirmation_delay_s=0.8)
    memory.report(168, 4, True)
    clock.advance(0.7)
    memory.tick()
    assert memory.find(168, 4) is None
    clock.advance(0.2)
    memory.tick()
    record = memory.find(168, 4)
    assert record is not None and record.active


def test_a_clear_holds_back_only_the_faults_still_present(clock: Any) -> None:
    memory = DtcMemory(clock=clock, redetect_delay_s=5.0)
    memory.report(168, 4, True)
    memory.report(110, 0, True)
    memory.report(110, 0, False)
    memory.clear_all()
    memory.report(110, 0, True)  # gone before the clear, back now: a new failure, set at once
    assert memory.find(110, 0) is not None
    memory.report(168, 4, False)  # present at the clear, then gone and back: its monitor starts afresh
    memory.report(168, 4, True)
    assert memory.find(168, 4) is not None


def test_two_faults_under_one_dtc_light_the_more_severe_lamp(clock: Any) -> None:
    memory = DtcMemory(clock=clock)
    memory.report(168, 3, True, lamp=Lamp.AMBER)
    memory.report(168, 3, True, lamp=Lamp.RED_STOP)
    memory.report(168, 3, True, lamp=Lamp.AMBER)
    record = memory.find(168, 3)
    assert record is not None and record.lamp is Lamp.RED_STOP and record.occurrences == 1


def test_defects_lose_the_count_overwrite_the_snapshot_and_never_confirm(clock: Any) -> None:
    defects = MemoryDefects(occurrences_lost_on_pass=True, snapshot_not_frozen=True, never_confirmed=True)
    memory = DtcMemory(clock=clock, defects=defects)
    memory.report(168, 4, True, snapshot={"dc_voltage_v": 550.0})
    record = memory.find(168, 4)
    assert record is not None and record.occurrences == 1
    assert record.status & Status.TEST_FAILED and not record.status & Status.CONFIRMED
    memory.report(168, 4, False, snapshot={"dc_voltage_v": 12.0})
    record = memory.find(168, 4)
    assert record is not None
    assert record.occurrences == 0
    assert record.snapshot == {"dc_voltage_v": 12.0}
