"""The Magtrol DSP7000 driver against its emulator: OD1 in speed and torque control, alarms."""

from __future__ import annotations

import math

import pytest

from sim.bench import SimulatedBench
from tests.sim.conftest import wait_for

VCU = 0x27


def energise(connect) -> None:
    supply = connect("supply")
    supply.set_voltage(600.0)
    supply.set_current_limit(300.0)
    supply.output_on()
    wait_for(lambda: supply.measure_voltage() > 590.0, what="600 V link")


def test_identity(connect) -> None:
    assert connect("dyno").identify().serial == "SIM-DY-0001"


def test_speed_mode_holds_speed_against_the_motor_torque(connect, bench: SimulatedBench) -> None:
    energise(connect)
    dyno = connect("dyno")
    dyno.set_speed(1000.0)
    wait_for(lambda: abs(dyno.read().speed_rpm - 1000.0) < 1.0, what="1000 rpm")
    assert dyno.read().direction == "CW"
    with bench.simulation.now() as plant:
        plant.request_torque(200.0, VCU)
    drag_nm = 0.02 * 1000.0 * math.pi / 30.0

    def settled() -> bool:
        reading = dyno.read()
        return abs(reading.torque_nm - (200.0 - drag_nm)) < 0.5 and abs(reading.speed_rpm - 1000.0) < 0.5

    wait_for(settled, what="the dyno absorbing the motor torque at 1000 rpm")
    assert bench.plant.inverter_dc_current_a > 0.0


def test_reverse_speed_reads_ccw(connect) -> None:
    dyno = connect("dyno")
    dyno.set_speed(-500.0)
    reading = wait_for(lambda: (r := dyno.read()).speed_rpm < -499.0 and r, what="-500 rpm")
    assert reading.direction == "CCW"
    assert dyno.query("OD1").startswith("S")
    assert dyno.query("OD1").endswith("L")


def test_torque_mode_free_run_and_speed_alarm(connect, bench: SimulatedBench) -> None:
    dyno = connect("dyno")
    dyno.program_alarms(speed_rpm=500.0, torque_nm=1000.0, power_kw=100.0)
    dyno.set_torque(-200.0)  # a four-quadrant dyno motors the shaft
    wait_for(lambda: dyno.read().torque_nm == pytest.approx(-200.0, abs=1.0), what="torque set point")
    reading = wait_for(lambda: (r := dyno.read()).alarm and r, what="speed alarm")
    assert reading.speed_rpm > 500.0
    dyno.free_run()
    wait_for(lambda: abs(dyno.read().torque_nm) < 0.5, what="free run")
    assert dyno.read().alarm  # latched until the alarms are re-armed
    dyno.write("ALL1,1")
    with bench.simulation.now() as plant:
        assert plant.speed_rpm > 500.0
    assert dyno.read().alarm  # still above the limit: trips again at once
    dyno.write("ALL1,0")
    assert not dyno.read().alarm


def test_unknown_and_out_of_rating_commands_are_ignored_and_logged(connect, bench: SimulatedBench) -> None:
    dyno = connect("dyno")
    dyno.write("XYZZY,1")
    dyno.write("N1,99999")
    dyno.write("Q1,abc")
    assert dyno.read().speed_rpm == 0.0
    records = [r for r in bench.command_log() if r["instrument"] == "dyno"]
    assert [(r["header"], r["args"], r["error"]) for r in records[:3]] == [
        ("XYZZY", ["1"], -113),
        ("N1", ["99999"], -222),
        ("Q1", ["abc"], -104),
    ]
    assert records[3]["header"] == "OD1"
