"""Protections: INV-01 over-voltage, INV-02 under-voltage, INV-04 over-current, INV-12 thermal
derating, INV-15 overspeed, INV-16 command timeout (all figures [E]); latching and reset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.drive.faults import FAULTS
from sim.drive.model import DriveInputs, InverterMotor

RPM = math.pi / 30.0
DT = 1e-3
IDLE = 1500.0 * RPM  # INV-01: motor idling at 1500 rpm


def first(drive: InverterMotor, name: str, kind: str) -> float:
    times = [e.t_s for e in drive.events if e.name == name and e.kind == kind]
    assert times, f"no {kind!r} event for {name}"
    return times[0]


def ov_ramp(drive: InverterMotor) -> dict[str, float]:
    """INV-01: supply ramps 600 → 760 V at 10 V/s (starting at t = 1 s); measured figures."""
    ramp = lambda t: 600.0 + 10.0 * max(t - 1.0, 0.0)  # noqa: E731
    t = 0.0
    while t < 17.0:
        t += DT
        drive.step(DT, DriveInputs(t, 0.0, IDLE, ramp(t), 60.0))
    warn, cross, trip = (
        first(drive, "dc_overvoltage_warning", "warn"),
        first(drive, "dc_overvoltage", "cross"),
        first(drive, "dc_overvoltage", "set"),
    )
    return {
        "warn_v": ramp(warn),
        "trip_v": ramp(cross),
        "trip_time_s": trip - cross,
        "pwm_off_s": first(drive, "pwm", "off") - cross,
    }


def ov_checks(measured: dict[str, float]) -> dict[str, bool]:
    return {
        "warn": abs(measured["warn_v"] / 700.0 - 1.0) <= 0.01,  # INV-01 700 V ±1 %
        "trip": abs(measured["trip_v"] / 730.0 - 1.0) <= 0.01,  # INV-01 730 V ±1 %
        "time": measured["pwm_off_s"] <= 0.010,  # INV-01 PWM off ≤ 10 ms after crossing
    }


def test_overvoltage_warning_trip_and_time(make_drive) -> None:
    drive = make_drive()
    measured = ov_ramp(drive)
    assert all(ov_checks(measured).values()), measured
    assert measured["trip_v"] == pytest.approx(730.0, abs=0.01), "crossing interpolated inside the step"
    assert measured["pwm_off_s"] == pytest.approx(0.002, abs=1e-9), "trip at crossing + delay, exactly"
    assert not drive.state.pwm_enabled and drive.state.torque_nm == 0.0 and drive.state.i_phase_rms_a == 0.0
    assert "dc_overvoltage" in drive.active_faults


def test_defect_overvoltage_trip_4_percent_high_fails(make_drive) -> None:
    checks = ov_checks(ov_ramp(make_drive({"protection": {"overvoltage_trip": 730.0 * 1.04}})))
    assert not checks["trip"] and checks["time"]


def test_defect_overvoltage_trip_40_ms_slow_fails(make_drive) -> None:
    checks = ov_checks(ov_ramp(make_drive({"protection": {"overvoltage_trip_delay": 0.042}})))
    assert checks["trip"] and not checks["time"]


def test_overvoltage_latches_until_below_700_v_and_reset(make_drive) -> None:
    """INV-01: recovers only after V_dc < 700 V and a fault reset."""
    drive = make_drive()
    t = 0.0
    for v, reset in (
        [(600.0, False)] * 50 + [(740.0, False)] * 20 + [(720.0, True)] * 5 + [(720.0, False)] * 5
    ):
        t += DT
        drive.step(DT, DriveInputs(t, 100.0, IDLE, v, 60.0, fault_reset=reset))
    assert "dc_overvoltage" in drive.active_faults, "reset above 700 V must be refused"
    for v, reset in [(690.0, False)] * 5:
        t += DT
        drive.step(DT, DriveInputs(t, 100.0, IDLE, v, 60.0, fault_reset=reset))
    assert not drive.state.pwm_enabled, "below 700 V without a reset it stays off"
    t += DT
    drive.step(DT, DriveInputs(t, 100.0, IDLE, 690.0, 60.0, fault_reset=True))
    assert "dc_overvoltage" not in drive.active_faults and drive.state.pwm_enabled


def test_hardware_overvoltage_is_immediate(make_drive) -> None:
    """INV-01: HW OV 780 V — a link jump 600 → 800 V inside one step trips on the comparator."""
    drive = make_drive()
    drive.step(DT, DriveInputs(DT, 0.0, IDLE, 600.0, 60.0))
    drive.step(DT, DriveInputs(2 * DT, 0.0, IDLE, 800.0, 60.0))
    cross = first(drive, "dc_overvoltage_hardware", "cross")
    assert cross == pytest.approx(DT + DT * 180.0 / 200.0)
    assert first(drive, "dc_overvoltage_hardware", "set") - cross <= 20e-6
    assert not drive.state.pwm_enabled


def test_undervoltage_derate_line_and_trip(make_drive) -> None:
    """INV-02: ramp 540 → 380 V at −10 V/s at 50 % torque: linear derate 450 → 0 at 400 V (±2 %),
    UV trip ≤ 400 V."""
    drive = make_drive()
    ramp = lambda t: 540.0 - 10.0 * max(t - 0.5, 0.0)  # noqa: E731
    envelope = drive.machine.flux_and_envelope(IDLE, 540.0)[1]
    t = 0.0
    while t < 16.5:
        t += DT
        v = ramp(t)
        state = drive.step(DT, DriveInputs(t, 475.0, IDLE, v, 60.0))
        if 400.0 < v < 540.0 and state.pwm_enabled:
            expected = min(max((v - 400.0) / 50.0, 0.0), 1.0)
            assert state.torque_limit_nm / envelope == pytest.approx(expected, abs=0.02), f"{v:.1f} V"
    trip = first(drive, "dc_undervoltage", "set")
    assert ramp(trip) <= 400.0
    assert FAULTS["dc_undervoltage"].lamp == "red"


def oc_trip(drive: InverterMotor, magnetised) -> dict[str, float]:
    """INV-04 with I_lim lowered (trip ratio 0.5 → 318 A pk): a slow torque ramp (2 N·m/ms) carries
    the current through the trip level; the true amplitude in the last step before the trip (within
    0.5 % of the crossing value) and the time from crossing to PWM off."""
    t = magnetised(drive, IDLE, 540.0)
    true_pk = 0.0
    for k in range(1, 1000):
        t += DT
        state = drive.step(DT, DriveInputs(t, 2.0 * k, IDLE, 540.0, 60.0))
        if not state.pwm_enabled:
            break
        true_pk = math.sqrt(2.0) * state.i_phase_rms_a
    cross = first(drive, "phase_overcurrent", "cross")
    return {"current_pk": true_pk, "trip_time_s": first(drive, "phase_overcurrent", "set") - cross}


OC_LOWERED = {"protection": {"overcurrent_trip_ratio": 0.5}}


def oc_checks(measured: dict[str, float], level_pk: float) -> dict[str, bool]:
    return {
        "level": abs(measured["current_pk"] / level_pk - 1.0) <= 0.02,  # trip level ±2 % [E]
        "time": measured["trip_time_s"] <= 200e-6,  # INV-04 ≤ 2 PWM periods
    }


def test_overcurrent_trip_level_and_time(make_drive, magnetised) -> None:
    drive = make_drive(OC_LOWERED)
    level = 0.5 * math.sqrt(2.0) * 450.0
    measured = oc_trip(drive, magnetised)
    assert all(oc_checks(measured, level).values()), measured
    assert "phase_overcurrent" in drive.active_faults and drive.state.i_phase_rms_a == 0.0
    assert drive.protections.th.oc_trip_pk == pytest.approx(1.2 * 636.4 * 0.5 / 1.2, rel=1e-3)


def test_defect_current_sensor_gain_fails_overcurrent_level(make_drive, magnetised) -> None:
    """Teeth: a current sensor reading 3 % high trips at 3 % less true current."""
    drive = make_drive({**OC_LOWERED, "inverter": {"current_sensor_gain": 1.03}})
    checks = oc_checks(oc_trip(drive, magnetised), 0.5 * math.sqrt(2.0) * 450.0)
    assert not checks["level"] and checks["time"]


def test_golden_overcurrent_level_is_1_2_peak(make_drive) -> None:
    """INV-04: SW trip at 1.2 × I_peak (≈ 760 A pk)."""
    assert make_drive().protections.th.oc_trip_pk == pytest.approx(760.0, rel=0.01)


@pytest.mark.parametrize(
    ("sensor", "start", "full", "zero"),
    [("heatsink", 60.0, 75.0, 90.0), ("winding", 130.0, 150.0, 180.0)],
)
def test_thermal_derate_line(make_drive, sensor: str, start: float, full: float, zero: float) -> None:
    """INV-12: full torque ≤ 75 °C heatsink, linear to 0 at 90 °C; motor full ≤ 150 °C, 0 at 180 °C;
    limit curve within ±5 %."""
    envelope = make_drive().machine.flux_and_envelope(IDLE, 540.0)[1]
    for temp in np.arange(start, zero + 5.0, 1.0):
        drive = make_drive(**{f"initial_{sensor}_temp_c": float(temp)})
        state = drive.step(
            DT, DriveInputs(DT, 0.0, IDLE, 540.0, float(temp) if sensor == "heatsink" else 60.0)
        )
        expected = min(max((zero - temp) / (zero - full), 0.0), 1.0)
        assert state.torque_limit_nm / envelope == pytest.approx(expected, abs=0.05), f"{sensor} {temp} °C"


def test_heatsink_trip_at_95_c(make_drive) -> None:
    """INV-12: heatsink trip 95 °C; the heatsink follows a coolant ramp."""
    drive = make_drive(initial_heatsink_temp_c=94.5)
    t = 0.0
    while t < 1.0:
        t += DT
        drive.step(DT, DriveInputs(t, 0.0, IDLE, 540.0, 120.0))
        if "heatsink_overtemperature" in drive.active_faults:
            break
    assert "heatsink_overtemperature" in drive.active_faults
    assert drive.state.heatsink_temp_c == pytest.approx(95.0, abs=0.2)


def test_overspeed(make_drive) -> None:
    """INV-15: dyno drives to 1.2 × n_max: overspeed flagged at ≥ n_max + 3 %, torque → 0."""
    drive = make_drive()
    speed = lambda t: 5000.0 * RPM + 2000.0 * RPM * t  # noqa: E731  (to 7200 rpm in 1.1 s)
    t = 0.0
    while t < 1.1:
        t += DT
        state = drive.step(DT, DriveInputs(t, 100.0, speed(t), 600.0, 60.0))
    set_at = first(drive, "overspeed", "set")
    assert speed(set_at) / RPM == pytest.approx(6000.0 * 1.03, rel=1e-4)
    assert abs(state.torque_nm) < 1e-6 and "overspeed" in drive.active_faults
    while t < 1.5:
        t += DT
        state = drive.step(DT, DriveInputs(t, 100.0, 5900.0 * RPM, 600.0, 60.0))
    assert "overspeed" not in drive.active_faults and state.torque_nm > 0.0


def test_command_timeout(make_drive, magnetised) -> None:
    """INV-16: TSC1 stops; torque → 0 within ≤ 100 ms of the 100 ms timeout."""
    drive = make_drive()
    t = magnetised(drive, IDLE, 540.0)
    last_command = t + 0.2
    timeout_at = last_command + 0.1
    while t < last_command + 0.4:
        t += DT
        age = max(t - last_command, 0.0)
        state = drive.step(DT, DriveInputs(t, 600.0, IDLE, 540.0, 60.0, command_age_s=age))
        if t >= timeout_at + 0.1:
            assert abs(state.torque_nm) < 1.0, (
                f"{state.torque_nm:.1f} N·m {t - timeout_at:.3f} s after timeout"
            )
    assert first(drive, "command_timeout", "set") == pytest.approx(timeout_at, abs=1e-9)
    assert "command_timeout" in drive.active_faults


def test_faults_table() -> None:
    """J1939-73 DTC fields: SPN 19 bits, proprietary range 520192–524287 used (> 65535), FMI 0–31."""
    for name, code in FAULTS.items():
        assert 0 < code.spn < 2**19 and 0 <= code.fmi <= 31 and code.lamp in ("amber", "red"), name
    assert any(code.spn > 65535 for code in FAULTS.values())
    assert len({(c.spn, c.fmi) for c in FAULTS.values()}) == len(FAULTS)


def test_defect_overspeed_flagged_without_torque_inhibit(make_drive) -> None:
    """INV-15 reaction-table defect: the overspeed is flagged, but the torque is not taken away."""
    drive = make_drive({"protection": {"overspeed_torque_inhibit": 0.0}})
    speed = lambda t: 5000.0 * RPM + 2000.0 * RPM * t  # noqa: E731  (to 7200 rpm in 1.1 s)
    t = 0.0
    while t < 1.1:
        t += DT
        state = drive.step(DT, DriveInputs(t, 100.0, speed(t), 600.0, 60.0))
    assert "overspeed" in drive.active_faults
    assert state.torque_nm == pytest.approx(100.0, rel=0.01)


def test_overcurrent_level_lowered_under_a_flowing_current_trips(make_drive, magnetised) -> None:
    """A test calibration (INV-04) lowering the trip level below the current already flowing trips
    the drive after the trip delay, as the level comparison of a real drive would."""
    drive = make_drive()
    t = magnetised(drive, IDLE, 540.0)
    drive.set_overcurrent_trip(100.0)  # below the 120 A magnetising current
    lowered_at = t
    while t < lowered_at + 0.01:
        t += DT
        drive.step(DT, DriveInputs(t, 0.0, IDLE, 540.0, 60.0))
    assert "phase_overcurrent" in drive.active_faults
    assert first(drive, "phase_overcurrent", "set") == pytest.approx(lowered_at + 100e-6, abs=1e-9)
    drive.set_overcurrent_trip(None)
    assert drive.overcurrent_trip_pk == pytest.approx(1.2 * 450.0 * math.sqrt(2.0))
