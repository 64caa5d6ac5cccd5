"""The Magtrol DSP7000 driver against its emulator: OD1 in speed and torque control, alarms."""

from __future__ import annotations

import math

import pytest

from instruments.errors import InstrumentReportedError, InstrumentTimeout
from sim.bench import SimulatedBench
from sim.emulators import emulator_class
from sim.plant.drive_plant import DrivePlant
from sim.plant.dyno import DynoModel, DynoRating, DynoTuning
from sim.profile import load_profile
from tests.sim.conftest import INSTRUMENTS, PACK_V, VCU_ADDRESS, wait_for


def test_identity(connect) -> None:
    assert connect("dyno").identify().serial == "SIM-DY-0001"


def test_speed_mode_holds_the_output_shaft_against_the_drive(connect, powered: SimulatedBench, vcu) -> None:
    dyno = connect("dyno")
    dyno.set_speed(1000.0)  # the dyno is on the transmission's output shaft
    wait_for(lambda: abs(dyno.read().speed_rpm - 1000.0) < 1.0, what="1000 rpm")
    assert dyno.read().direction == "CW"
    vcu.request_torque(200.0)
    ratio = powered.profile["transmission"]["ratio_1"]
    efficiency = powered.profile["shaft"]["transmission_efficiency"]
    drag_nm = powered.profile["shaft"]["friction"] * 1000.0 * math.pi / 30.0

    def settled() -> bool:
        with powered.simulation.now() as plant:
            # at constant speed the dyno takes what the gearbox delivers, less the output-side drag
            balance_nm = plant.output_torque_nm - drag_nm
            motor_nm = plant.motor_torque_nm
        reading = dyno.read()
        return (
            motor_nm == pytest.approx(200.0, abs=0.1)
            and abs(reading.torque_nm - balance_nm) < 0.5
            and abs(reading.speed_rpm - 1000.0) < 0.5
        )

    wait_for(settled, what="the dyno absorbing the drive's torque at 1000 rpm")
    reading = dyno.read()
    # 200 N·m through 1st gear (1.65, 97 %): 320 N·m less 2 N·m drag (the motor's own friction and
    # windage, ~2.5 N·m at the output, are missing: see test_motor_friction_and_windage_load_the_shaft)
    assert abs(reading.torque_nm - (200.0 * ratio * efficiency - drag_nm)) < 5.0
    with powered.simulation.now() as plant:
        assert plant.tx.state.current_gear == 1
        assert plant.motor_speed_rpm == pytest.approx(1000.0 * ratio, abs=1.0)
        assert plant.inverter_dc_current_a > 0.0


def test_motor_friction_and_windage_load_the_shaft() -> None:
    plant = bench_free_plant()
    power_plant(plant)
    plant.dyno.hold_speed(1000.0)
    for _ in range(200):  # 2 s with the torque request renewed every 10 ms
        plant.request_torque(200.0, VCU_ADDRESS)
        plant.advance(plant.time_s + 0.01)
    shaft = plant.profile["shaft"]
    ratio = plant.profile["transmission"]["ratio_1"]
    motor_drag_nm = plant.drive.state.mechanical_drag_nm
    assert motor_drag_nm > 1.0  # ~0.27 kW at 1650 rpm
    expected = (200.0 - motor_drag_nm) * ratio * shaft["transmission_efficiency"]
    expected -= shaft["friction"] * plant.output_speed_rad_s
    assert plant.speed_rpm == pytest.approx(1000.0, abs=0.1)
    assert plant.dyno.torque_nm == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("output_rpm", [0.0, 8.0, 20.0])
def test_output_torque_through_a_locked_or_creeping_gearbox(
    connect, powered: SimulatedBench, vcu, output_rpm: float
) -> None:
    """The dyno holds the output shaft still or creeping while the motor pushes through 1st gear:
    power flows from the motor, so every reading is ratio × torque × mesh efficiency (less the
    motor's bearing friction once it turns), never the back-driven 1/efficiency however the speed
    jitters around standstill."""
    dyno = connect("dyno")
    dyno.set_speed(output_rpm)
    profile = powered.profile
    ratio = profile["transmission"]["ratio_1"]
    efficiency = profile["shaft"]["transmission_efficiency"]
    motor = profile["motor"]
    # bearing friction takes a power ∝ speed: a constant torque at a motor turning faster than
    # its rest speed (8 rpm at the output is 13 at the motor)
    friction_nm = motor["friction_loss_at_base"] / motor["base_speed"] if output_rpm else 0.0
    assert output_rpm == 0.0 or output_rpm * ratio * math.pi / 30.0 > profile["shaft"]["rest_speed"]
    for torque_nm in (100.0, 300.0, 600.0):  # whole percent of the 1000 N·m TSC1 reference
        vcu.request_torque(torque_nm)
        expected = ratio * (torque_nm - friction_nm) * efficiency
        for _ in range(3):
            # the dyno's speed loop settles within ~0.6 s of a torque step
            since = hold(powered, torque_nm, seconds=1.5)
            readings = [dyno.read() for _ in range(10)]
            if held_throughout(powered, torque_nm, since):
                break
        else:
            pytest.fail(f"{torque_nm} N·m was not held through ten readings in three tries")
        for reading in readings:
            assert reading.speed_rpm == pytest.approx(output_rpm, abs=0.1)
            assert reading.torque_nm == pytest.approx(expected, abs=0.05 + 1e-4 * expected), torque_nm


def hold(bench: SimulatedBench, torque_nm: float, seconds: float) -> float:
    """Once the motor has produced ``torque_nm`` for ``seconds`` of simulated time without a break
    (a starved VCU thread on a loaded machine can let a TSC1 time out and start it over), the
    simulated instant the hold began."""
    since = math.inf

    def held() -> bool:
        nonlocal since
        with bench.simulation.now() as plant:
            if abs(plant.motor_torque_nm - torque_nm) > 1e-3:
                since = math.inf
            elif since == math.inf:
                since = plant.time_s
            return plant.time_s >= since + seconds

    wait_for(held, timeout_s=seconds + 5.0, what=f"{torque_nm} N·m held for {seconds} s")
    return since


def held_throughout(bench: SimulatedBench, torque_nm: float, since: float) -> bool:
    """Whether the hold that began at ``since`` is unbroken: each way the drive drops a torque the
    VCU still asks for (a TSC1 timed out on a starved machine, a trip) is a protection change."""
    with bench.simulation.now() as plant:
        unbroken = all(change.t_s < since for change in plant.fault_changes)
        return unbroken and abs(plant.motor_torque_nm - torque_nm) <= 1e-3


def test_direct_drive_passes_torque_without_a_mesh() -> None:
    """3rd gear (ratio 1) locks the input shaft to the output shaft: the dyno reads the motor's
    torque times the direct drive's efficiency, not the gear mesh's."""
    plant = bench_free_plant()
    power_plant(plant)
    ratios = plant.profile["transmission"]
    third_rpm = 2900.0  # 48 km/h: above the 2->3 line at light throttle (45 km/h)
    assert ratios["ratio_3"] == 1.0
    while plant.tx.state.current_gear != 3 or plant.tx.state.shift_in_process:
        assert plant.time_s < 20.0, f"no 3rd gear, in {plant.tx.state.current_gear}"
        # the dyno drives the output shaft up at ~0.4 g while the VCU asks for a light torque
        plant.dyno.hold_speed(min(third_rpm, plant.speed_rpm + 10.0))
        plant.request_torque(50.0, VCU_ADDRESS)
        plant.advance(plant.time_s + 0.01)
    for _ in range(100):  # 1 s at 100 N·m (32 kW, inside the supply's 100 A) for the dyno loop to settle
        plant.request_torque(100.0, VCU_ADDRESS)
        plant.advance(plant.time_s + 0.01)
    assert plant.tx.state.current_gear == 3
    assert plant.drive.state.torque_nm == pytest.approx(100.0, abs=1e-3)
    shaft = plant.profile["shaft"]
    expected = (100.0 - plant.drive.state.mechanical_drag_nm) * shaft["direct_drive_efficiency"]
    expected -= shaft["friction"] * plant.output_speed_rad_s
    assert plant.speed_rpm == pytest.approx(third_rpm, abs=0.1)
    assert plant.dyno.torque_nm == pytest.approx(expected, abs=0.05)
    assert shaft["direct_drive_efficiency"] > shaft["transmission_efficiency"]


def bench_free_plant() -> DrivePlant:
    """The drive plant with the bench's instrument physics, stepped by hand in simulated time."""
    profile = load_profile(serial="EDS200-SIM-0001")
    classes = [(emulator_class(spec["driver"]), spec["model"]) for spec in INSTRUMENTS]
    physics = {cls.plant_slot: cls.build_physics(model, profile) for cls, model in classes if cls.plant_slot}
    return DrivePlant(profile, seed=7, **physics)


def power_plant(plant: DrivePlant) -> None:
    plant.cells.output_on = [True] * plant.cells.rating.channels
    plant.supply.setpoint_v = PACK_V
    plant.supply.switch_on(0.0)
    while plant.bms.state.contactor_state.name != "CLOSED" or plant.dc_link_voltage_v < PACK_V - 0.5:
        assert plant.time_s < 2.0, "the BMS did not close"
        plant.advance(plant.time_s + 0.01)


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
    assert reading.speed_rpm >= 500.0  # OD1 shows 0.1 rpm: a trip just above 500 reads 500.0
    dyno.free_run()
    wait_for(lambda: abs(dyno.read().torque_nm) < 0.5, what="free run")
    assert dyno.read().alarm  # latched until the alarms are re-armed
    dyno.write("ALL1,1")
    with bench.simulation.now() as plant:
        assert plant.speed_rpm > 500.0
    # still above the limit: trips again at the next plant step
    wait_for(lambda: dyno.read().alarm, what="speed alarm again")
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


def test_speed_step_stays_inside_the_programmed_torque_alarm() -> None:
    """A speed step from standstill saturates the speed loop; with alarms programmed at 1200 N·m
    the controller accelerates just inside that torque and the alarm stays clear (without alarms, at
    the rating, 1500 N·m)."""
    inertia = 0.9  # kg·m², motor and output side
    for enabled, ceiling in ((True, 0.99 * 1200.0), (False, 1500.0)):
        dyno = DynoModel(DynoRating(8000.0, 1500.0, 250.0), DynoTuning(50.0, 500.0, 0.005))
        dyno.alarm_torque_nm, dyno.alarms_enabled = 1200.0, enabled
        dyno.hold_speed(-1500.0)  # absorbing torque brakes positive rotation: drive it negative
        speed, peak = 0.0, 0.0
        for _ in range(2000):
            torque = dyno.update(1e-3, speed)
            speed -= torque / inertia * 1e-3
            dyno.check(speed * 30.0 / math.pi)
            peak = max(peak, abs(torque))
        assert peak == pytest.approx(ceiling) and not dyno.alarm


def test_above_base_speed_the_torque_is_power_limited() -> None:
    """A 250 kW dyno cannot hold 1200 N·m at 7000 rpm (880 kW): a step from 6400 to 7200 rpm
    accelerates within the programmed power alarm and latches nothing."""
    dyno = DynoModel(DynoRating(8000.0, 1500.0, 250.0), DynoTuning(50.0, 1250.0, 0.005))
    dyno.alarm_torque_nm, dyno.alarm_speed_rpm, dyno.alarms_enabled = 1200.0, 7500.0, True
    inertia, speed = 0.9, 6400.0 * math.pi / 30.0
    dyno.hold_speed(7200.0)
    peak_kw = 0.0
    for _ in range(3000):
        torque = dyno.update(1e-3, speed)
        speed -= torque / inertia * 1e-3  # absorbed torque brakes positive rotation
        dyno.check(speed * 30.0 / math.pi)
        peak_kw = max(peak_kw, abs(torque * speed) / 1000.0)
    assert speed * 30.0 / math.pi == pytest.approx(7200.0, abs=1.0)
    assert peak_kw <= 250.0 and not dyno.alarm


@pytest.mark.parametrize(
    "command",
    [
        "SYST:ERR?",  # a SCPI error queue: the controller has none
        "od1",  # lower case (§7.4: upper case only)
        "OD1;OD1",  # two commands in one line
        "OD3",  # a channel the controller has not
        "STAT,1",  # STAT takes no value
    ],
)
def test_what_the_controller_does_not_recognise_gets_no_reply_only_io_error(
    connect, bench: SimulatedBench, command: str
) -> None:
    dyno = connect("dyno")
    dyno._resource.timeout = 200  # each of the three tries waits this long for a reply that never comes
    emulator = bench.emulators["dyno"]
    assert emulator.front_panel == ""
    with pytest.raises(InstrumentTimeout) as raised:
        dyno.query_value(command, str)
    assert f"no reply within 200 ms to {command!r}" in raised.value.detail
    assert "does not recognise" in raised.value.detail and "I/O ERROR" in raised.value.detail
    assert raised.value.detail.endswith("(asked 3 times)")
    assert emulator.front_panel == "I/O ERROR"
    assert dyno.read().speed_rpm == 0.0  # nothing late is left to answer the next question
    records = [r for r in bench.command_log() if r["instrument"] == "dyno"]
    assert [r["error"] != 0 for r in records[-4:]] == [True, True, True, False]


def test_alarm_flags_of_stat_name_the_alarm(connect, bench: SimulatedBench) -> None:
    dyno = connect("dyno")
    dyno.check_errors()  # no flag set: nothing to report
    assert dyno.query("STAT") == "00000000"
    dyno.program_alarms(speed_rpm=300.0, torque_nm=1000.0, power_kw=100.0)
    dyno.set_torque(-200.0)  # motors the shaft past the speed alarm
    wait_for(lambda: dyno.read().alarm, what="speed alarm")
    dyno.free_run()
    with pytest.raises(InstrumentReportedError, match=r'STAT alarm flags after .*23,"speed alarm 1"'):
        dyno.check_errors()
    dyno.write("ALL1,0")  # re-arming clears the latch and its flags
    dyno.check_errors()
    with bench.simulation.now():
        bench.emulators["dyno"].physics.alarm = True  # a fault from outside the controller's limits
    with pytest.raises(InstrumentReportedError, match=r'4,"external alarm 1"'):
        dyno.check_errors()
