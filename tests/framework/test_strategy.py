"""The bench's states, reached by ``transition`` from wherever the bench is, on the simulated bench."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil import timing
from hil.bench import Bench
from hil.dut.can_link import CanLink
from hil.dut.dbc import load_drive_dbc
from hil.dut.monitor import CanMonitor
from hil.dut.vcu import Vcu
from hil.models.loop import PlantLoopError
from hil.product import load_product
from hil.strategy import DriveStrategy, State, TransitionError

ROOT = Path(__file__).resolve().parents[2]

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


def test_a_failed_watchdog_during_the_safe_state_still_leaves_the_drive_off_and_open(
    drive, bench, can_monitor, caplog
):
    """A plant loop that failed keeps raising from every wait until its own hook stops it, and the
    strategy's hook runs first: its wait for the current ends, and the contactors are asked open."""

    def failed_loop() -> None:
        raise PlantLoopError("pack", ValueError("NaN cell voltage"))

    drive.transition("drive_ready")
    remove = timing.ledger().watch(failed_loop)
    try:
        bench.safe_state()
    finally:
        remove()
    assert drive.state is State.OFF
    can_monitor.wait(
        "BMS_Status", lambda f: f["ContactorState"] == OPEN, timeout_s=1.0, what="contactors open"
    )
    assert "asking the contactors open all the same" in caplog.text
    assert "hook" not in caplog.text


def test_an_under_voltage_latch_is_reset_once_the_link_is_up(drive, bench, can_monitor):
    """Ramping the supply down under closed contactors latches the drive's under-voltage trip, whose
    reset needs the link above 450 V [E]: the bring-up resets it again once the contactors closed."""
    drive.transition("drive_ready")
    bench.supply.set_voltage(380.0)
    can_monitor.wait(
        "INV_Faults", lambda f: f["DcUnderVoltageTrip"] == 1, timeout_s=2.0, what="under-voltage trip"
    )
    bench.safe_state()
    drive.transition("drive_ready")
    assert can_monitor.value("INV_Status", "PwmEnabled") == 1


WELDED = 3
WELD_SEEN_S = 0.35
# worn main contacts, and a drive whose torque falls over 0.3 s: the BMS would break the load if
# the bench asked it to open as it zeroed the torque
WORN_CONTACTS = """\
description: worn main contacts, a slow torque ramp
hv_path:
  main_weld_current: 40 A
motor:
  torque_rate_limit: 2000 N*m/s
"""


@pytest.mark.parametrize("way_down", ["close", "safe_state"])
def test_the_contactors_are_asked_open_only_once_the_drive_draws_no_load(tmp_path, way_down):
    """A unit whose main contacts weld when they break more than 40 A: drawing 100 A or more at the
    end of a scenario, the bench's way down (the fixture closing its strategy, or the safe state
    straight away) zeroes the torque and waits for the current to fall before the contactors open."""
    profile = tmp_path / "worn.yaml"
    profile.write_text(WORN_CONTACTS)
    product = load_product(ROOT / "specs")
    with (
        Bench.from_file(ROOT / "benches" / "sim.yaml", service_options={"profile": str(profile)}) as bench,
        CanLink(**bench.can_kwargs) as link,
    ):
        monitor = CanMonitor(load_drive_dbc())
        link.notifier.add_listener(monitor)
        vcu = Vcu(link.bus, load_drive_dbc(), reference_torque_nm=product.value("reference_torque", "N*m"))
        vcu.start()
        drive = DriveStrategy.for_product(bench, vcu, monitor, product)
        try:
            drive.transition("turning", output_rpm=600)
            vcu.request_torque(600.0)  # the dyno holds the speed: the drive motors into it
            monitor.wait(
                "INV_Status", lambda f: f["DcBusCurrent"] > 100, timeout_s=2.0, what="the drive at load"
            )
            mark = monitor.mark()
            if way_down == "close":
                drive.close()
            else:
                bench.safe_state()
            opened = monitor.wait(
                "BMS_Status",
                lambda f: f["ContactorState"] != CLOSED,
                since=mark,
                timeout_s=2.0,
                what="contactors no longer closed",
            )
            monitor.wait(  # past the BMS's weld detection (its aux contact still closed 100 ms on)
                "BMS_Status",
                lambda f: f.t_s > opened.t_s + WELD_SEEN_S,
                since=mark,
                timeout_s=2.0,
                what="the BMS's status after its weld detection",
            )
            states = [f["ContactorState"] for f in monitor.frames("BMS_Status", since=mark)]
            assert WELDED not in states
        finally:
            drive.close()  # its safe-state hook would restart the VCU's streams on a closed link
            vcu.stop()
            link.notifier.remove_listener(monitor)
