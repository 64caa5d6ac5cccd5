"""The bench's states, reached by ``transition`` from wherever the bench is, on the simulated bench."""

from __future__ import annotations

import pytest

from hil.strategy import State, TransitionError

CLOSED, OPEN = 2, 0


def test_up_to_turning_and_back_down_step_by_step(drive, bench, can_monitor):
    drive.transition("turning", output_rpm=800)
    assert drive.state is State.TURNING
    assert can_monitor.value("BMS_Status", "ContactorState") == CLOSED
    assert can_monitor.value("INV_Status", "PwmEnabled") == 1
    assert bench.dyno.read().speed_rpm == pytest.approx(800, abs=5)

    drive.transition("turning", output_rpm=1200)
    assert bench.dyno.read().speed_rpm == pytest.approx(1200, abs=6)

    drive.transition("powered")
    assert drive.state is State.POWERED
    assert abs(bench.dyno.read().speed_rpm) < 30
    assert can_monitor.value("BMS_Status", "ContactorState") == OPEN
    assert bench.supply.output_enabled()

    drive.transition("off")
    assert drive.state is State.OFF
    assert not bench.supply.output_enabled()


def test_the_safe_state_leaves_the_strategy_off_and_a_latched_fault_is_reset_on_the_way_up(
    drive, bench, vcu, can_monitor
):
    drive.transition("drive_ready")
    vcu.stop_heartbeat()  # the BMS opens and latches its VCU-timeout fault
    can_monitor.wait(
        "BMS_Status", lambda f: f["FaultActive"] == 1, timeout_s=3.0, what="BMS heartbeat fault latched"
    )
    bench.safe_state()
    assert drive.state is State.OFF
    drive.transition("drive_ready")
    assert can_monitor.value("BMS_Status", "ContactorState") == CLOSED


def test_a_dc_undervoltage_latch_is_reset_once_the_link_is_up(drive, bench, can_monitor):
    drive.transition("drive_ready")
    bench.supply.set_voltage(380.0)  # the link below the drive's 400 V trip with the contactors closed
    can_monitor.wait(
        "INV_Status", lambda f: f["PwmEnabled"] == 0, timeout_s=3.0, what="DC under-voltage trip"
    )
    bench.safe_state()  # the link discharges: a reset before the contactors close cannot clear the latch
    drive.transition("drive_ready")
    assert can_monitor.value("INV_Status", "PwmEnabled") == 1


@pytest.mark.parametrize(
    ("state", "params", "message"),
    [
        ("turning", {}, "needs output_rpm"),
        ("powered", {"speed": 3}, "unknown parameter"),
    ],
)
def test_bad_transitions_are_refused_before_anything_moves(drive, state, params, message):
    with pytest.raises(TransitionError, match=message):
        drive.transition(state, **params)
    assert drive.state is State.OFF


def test_an_unknown_state_is_named(drive):
    with pytest.raises(KeyError, match="FLYING"):
        drive.transition("flying")


def test_a_closed_strategy_leaves_the_vcu_asking_for_open_contactors(drive, can_monitor):
    """The drive fixture closes its strategy before the test's safe state runs: that safe state must
    not ramp the supply down under contactors the VCU still asks to keep closed."""
    drive.transition("drive_ready")
    drive.close()
    can_monitor.wait(
        "BMS_Status", lambda f: f["ContactorState"] == OPEN, timeout_s=1.0, what="contactors open"
    )
