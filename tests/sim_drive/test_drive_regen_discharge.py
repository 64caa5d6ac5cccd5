"""Regen (INV-13) and DC-link discharge (INV-14); figures [E] / [R]."""

from __future__ import annotations

import math

import pytest

from sim.drive.model import DriveInputs, InverterMotor

RPM = math.pi / 30.0
DT = 1e-3
SPEED = 3000.0 * RPM  # INV-13: dyno drives at 3000 rpm
LINK_F = 2e-3  # §2 reference system: 2 mF DC link


def test_regen_sign_and_bms_limit(make_drive, magnetised, settle) -> None:
    """INV-13: torque −50 %, BMS charge limit 100 A → I_dc ≤ 0 and |I_dc| ≤ limit + 5 %."""
    drive = make_drive()
    t = magnetised(drive, SPEED, 600.0)
    free = settle(drive, t, lambda t: DriveInputs(t, -475.0, SPEED, 600.0, 60.0), 0.3)
    assert free.torque_nm == pytest.approx(-475.0, rel=0.01)
    assert free.i_dc_a < -100.0 and free.p_shaft_w < 0.0, "unlimited regen returns more than the BMS allows"
    limited = settle(
        drive,
        free.t_s,
        lambda t: DriveInputs(t, -475.0, SPEED, 600.0, 60.0, regen_current_limit_a=100.0),
        0.3,
    )
    assert limited.i_dc_a <= 0.0
    assert -limited.i_dc_a <= 105.0
    assert -limited.i_dc_a >= 95.0, "the limit is used, not undershot"


def test_regen_taper_above_680_v(make_drive, magnetised, settle) -> None:
    """INV-13: regen tapered when V_dc > 680 V (to 0 at the 700 V warning), no OV trip."""
    drive = make_drive()
    t = magnetised(drive, SPEED, 600.0)
    state = settle(drive, t, lambda t: DriveInputs(t, -475.0, SPEED, 690.0, 60.0), 0.3)
    assert state.regen_torque_limit_nm == pytest.approx(0.5 * state.torque_limit_nm, rel=0.01)
    assert state.torque_nm == pytest.approx(-0.5 * state.torque_limit_nm, rel=0.01)
    assert not drive.active_faults


def discharge_time(drive: InverterMotor, active: bool, seconds: float) -> float:
    """Open contactors at 600 V: the link (2 mF) feeds only the drive; time to fall below 60 V."""
    v, t = 600.0, 0.0
    while v >= 60.0 and t < seconds:
        t += DT
        state = drive.step(DT, DriveInputs(t, 0.0, 0.0, v, 40.0, discharge_request=active))
        v -= state.i_dc_a * DT / LINK_F
    return t


def test_active_discharge_within_3_s(make_drive) -> None:
    """INV-14 [R]: active discharge < 60 V in ≤ 3 s."""
    drive = make_drive()
    t = discharge_time(drive, True, 5.0)
    assert t <= 3.0
    assert not drive.state.pwm_enabled and not drive.active_faults, "a requested discharge is no fault"


def test_defect_weak_active_discharge_fails(make_drive) -> None:
    assert discharge_time(make_drive({"inverter": {"active_discharge_resistance": 2000.0}}), True, 5.0) > 3.0


def test_passive_bleed_within_5_min(make_drive) -> None:
    """INV-14 [R]: passive ≤ 5 min from 600 V. The link load of an unarmed drive (below its ready
    voltage, PWM never on, no active discharge) is measured over 1 s of decay and the exponential
    extrapolated: a 5-minute run at 1 ms steps is too long for a unit test."""
    drive = make_drive()
    v0 = 410.0
    v, t = v0, 0.0
    while t < 1.0:
        t += DT
        state = drive.step(DT, DriveInputs(t, 0.0, 0.0, v, 40.0))
        assert not state.pwm_enabled
        v -= state.i_dc_a * DT / LINK_F
    tau = -1.0 / math.log(v / v0)
    assert tau * math.log(600.0 / 60.0) <= 300.0


def test_defect_regen_at_a_fixed_current_not_the_bms_limit(make_drive, magnetised, settle) -> None:
    """INV-13 firmware defect: the drive regenerates up to the pack's rated 100 A whatever lower
    limit the BMS publishes (near full charge, 50 A)."""
    drive = make_drive({"protection": {"regen_fixed_current_limit": 100.0}})
    t = magnetised(drive, SPEED, 600.0)
    state = settle(
        drive, t, lambda t: DriveInputs(t, -475.0, SPEED, 600.0, 60.0, regen_current_limit_a=50.0), 0.3
    )
    assert -state.i_dc_a == pytest.approx(100.0, rel=0.01)


def test_defect_keeps_the_synchronisation_pulse(make_drive, magnetised, settle) -> None:
    """The defect replaces the BMS's sustained limit only: a gear synchronisation still brakes the
    rotor with its pulse allowance, so the defect shows in INV-13 and not as failed upshifts."""
    drive = make_drive({"protection": {"regen_fixed_current_limit": 100.0}})
    t = magnetised(drive, SPEED, 600.0)
    state = settle(
        drive,
        t,
        lambda t: DriveInputs(
            t, -475.0, SPEED, 600.0, 60.0, regen_current_limit_a=50.0, sync_regen_current_a=200.0
        ),
        0.3,
    )
    assert -state.i_dc_a == pytest.approx(200.0, rel=0.01)
