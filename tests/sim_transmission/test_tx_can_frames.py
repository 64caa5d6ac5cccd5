"""The transmission's J1939 frames against the drive DBC (reference §5.2): ETC1 (SPN 574, 191, 161),
ETC2 (SPN 524, 526, 523, −125 offset), CCVS1 (SPN 84, 1/256 km/h); TX-06 gear-signal consistency
(ETC2 gears match the simulated ones within one message period, 100 ms [E])."""

from __future__ import annotations

import cantools
import numpy as np
import pytest
from tx_rig import KMH, RPM, Rig, constant, params, per_throttle

from sim.transmission import Transmission, TransmissionInputs, can_frames

DBC = cantools.database.load_file(can_frames.DBC_FILE)  # decoded independently of the module's cache


def decode(frame: can_frames.Frame) -> dict[str, float]:
    return DBC.decode_message(frame.arbitration_id, frame.data)


def test_identifiers_priorities_pgns_and_periods():
    tx = Transmission(params())
    state = tx.step(1e-3, TransmissionInputs(0.0, 0.0, 0.0))
    frames = {f.name: f for f in can_frames.all_frames(state)}
    # priority << 26 | PGN << 8 | SA 0x03 (Transmission #1), reference §5.1/§5.2
    assert frames["ETC1"].arbitration_id == (3 << 26) | (61442 << 8) | 0x03
    assert frames["ETC2"].arbitration_id == (6 << 26) | (61445 << 8) | 0x03
    assert frames["CCVS1"].arbitration_id == (6 << 26) | (65265 << 8) | 0x03
    assert {n: f.period_s for n, f in frames.items()} == {"ETC1": 0.01, "ETC2": 0.1, "CCVS1": 0.1}
    assert all(len(f.data) == 8 for f in frames.values())


@pytest.mark.parametrize(
    ("gear", "output_rpm", "motor_rpm"),
    [(1, 0.0, 0.0), (1, 1234.5, 2036.9), (2, 2500.0, 3200.0), (3, 4321.0, 4321.0)],
)
def test_round_trip_engaged(gear, output_rpm, motor_rpm):
    tx = Transmission(params(), initial_gear=gear)
    st = tx.step(1e-3, TransmissionInputs(0.1, output_rpm * RPM, motor_rpm * RPM, brake=True))
    etc1, etc2, ccvs1 = (decode(f) for f in can_frames.all_frames(st))
    assert etc1["OutputShaftSpeed"] == pytest.approx(output_rpm, abs=0.125)  # SPN 191, 0.125 rpm/bit
    assert etc1["InputShaftSpeed"] == pytest.approx(motor_rpm, abs=0.125)  # SPN 161
    assert etc1["ShiftInProcess"] == 0 and etc1["DrivelineEngaged"] == 1
    assert etc1["SrcAddrOfControllingDevice"] == 0x03
    assert (etc2["SelectedGear"], etc2["CurrentGear"]) == (gear, gear)  # SPN 524/523, −125 offset
    assert etc2["ActualGearRatio"] == pytest.approx(st.gear_ratio, abs=0.001)  # SPN 526, 0.001/bit
    assert ccvs1["WheelBasedVehicleSpeed"] == pytest.approx(st.vehicle_speed_m_s / KMH, abs=1 / 256)  # SPN 84
    assert ccvs1["BrakeSwitch"] == 1


def test_raw_gear_bytes_carry_the_minus_125_offset():
    st = Transmission(params(), initial_gear=2).step(1e-3, TransmissionInputs(0.1, 220.0, 281.6))  # 35 km/h
    data = can_frames.etc2(st).data
    assert (data[0], data[3]) == (125 + 2, 125 + 2)
    assert data[4:8] == b"\xff\xff\xff\xff"  # ranges not available


def test_defect_zero_based_gear_index_reports_1st_as_neutral():
    tx = Transmission(params(etc2_gear_offset=-1.0), initial_gear=2)
    st = tx.step(1e-3, TransmissionInputs(0.1, 220.0, 281.6))
    etc2 = decode(can_frames.etc2(st, tx.etc2_gear_offset))
    assert (etc2["SelectedGear"], etc2["CurrentGear"]) == (1, 1)
    assert etc2["ActualGearRatio"] == pytest.approx(1.28, abs=0.001)  # the ratio stays the measured one
    st.current_gear, st.selected_gear = 0, 1  # in neutral during a 2->1 shift
    etc2 = decode(can_frames.etc2(st, tx.etc2_gear_offset))
    assert (etc2["SelectedGear"], etc2["CurrentGear"]) == (0, 0)
    assert Transmission(params()).etc2_gear_offset == 0
    with pytest.raises(ValueError, match="etc2_gear_offset"):
        Transmission(params(etc2_gear_offset=0.5))


def test_speeds_clamped_to_the_unsigned_signals():
    st = Transmission(params()).step(1e-3, TransmissionInputs(0.0, -5.0, -8.25))
    etc1, _, ccvs1 = (decode(f) for f in can_frames.all_frames(st))
    assert (
        etc1["OutputShaftSpeed"] == 0
        and etc1["InputShaftSpeed"] == 0
        and ccvs1["WheelBasedVehicleSpeed"] == 0
    )


def test_tx06_gear_signals_match_the_model_through_all_gears():
    rig = Rig(params())
    etc2_rows, etc1_rows = [], []
    n_steps = 0

    def sample(t: float, _v: float) -> bool:  # encode at the DBC periods: ETC1 10 ms, ETC2 100 ms
        nonlocal n_steps
        n_steps += 1
        st = rig.tx.state
        if n_steps % 10 == 0:
            etc1_rows.append((decode(can_frames.etc1(st))["ShiftInProcess"], int(st.shift_in_process)))
        if n_steps % 100 == 0:
            d = decode(can_frames.etc2(st))
            etc2_rows.append((d["SelectedGear"], d["CurrentGear"], st.selected_gear, st.current_gear))
        return _v >= 75.0

    rig.run(60.0, per_throttle({1.0: 1.6}), constant(1.0), until=sample)
    rows = np.array(etc2_rows)
    assert (rows[:, 0] == rows[:, 2]).all() and (rows[:, 1] == rows[:, 3]).all()
    assert set(rows[:, 1]) == {0, 1, 2, 3}  # every gear, and neutral during the shifts
    assert set(rows[:, 0]) == {1, 2, 3}
    shift = np.array(etc1_rows)
    assert (shift[:, 0] == shift[:, 1]).all() and shift[:, 0].max() == 1
