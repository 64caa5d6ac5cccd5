"""The BMS broadcasts encoded with the drive DBC (dbc/README.md: BMS_Status 0xFF20, BMS_Limits
0xFF21, BMS_CellExtremes 0xFF22, SA 0xF3, priority 6 [E]) decode back to the BMS's state."""

from __future__ import annotations

from collections.abc import Callable

import cantools
import pytest

from sim.bms.can_frames import DBC_PATH, bms_cell_extremes, bms_limits, bms_status


@pytest.fixture
def db() -> cantools.database.Database:
    return cantools.database.load_file(str(DBC_PATH))


def j1939_parts(frame_id: int) -> tuple[int, int, int]:
    return frame_id >> 26, (frame_id >> 8) & 0x3FFFF, frame_id & 0xFF


def test_identifiers_are_the_dbc_pgns_from_sa_f3(make_rig: Callable) -> None:
    state = make_rig().bms.state
    ids = [bms_status(state, frozenset(), 0)[0], bms_limits(state)[0], bms_cell_extremes(state)[0]]
    assert [j1939_parts(i) for i in ids] == [(6, 0xFF20, 0xF3), (6, 0xFF21, 0xF3), (6, 0xFF22, 0xF3)]


def test_frames_decode_to_the_state(make_rig: Callable, db: cantools.database.Database) -> None:
    rig = make_rig()
    cells = [3.30] * 24
    cells[4], cells[17] = 3.52, 3.11
    rig.inputs.cell_voltages_v = cells
    rig.inputs.cell_temps_c = [21.0, 34.0, 18.0, 25.0]
    rig.close()
    rig.link_load = lambda v: -40.0  # regeneration: charging
    rig.run(0.1)
    state = rig.bms.state

    status = db.decode_message(*bms_status(state, rig.bms.active_faults, 21))
    assert status["PackVoltage"] == pytest.approx(state.pack_voltage_v, abs=0.05)
    assert status["PackCurrent"] == pytest.approx(state.pack_current_a, abs=0.05)
    assert status["StateOfCharge"] == pytest.approx(state.soc * 100, abs=0.2)
    assert status["ContactorState"] == "Closed"
    assert status["BmsState"] == "Charging"
    assert status["MessageCounter"] == 21 % 16
    assert status["FaultActive"] == 0 and status["ChargeInhibit"] == 0

    limits = db.decode_message(*bms_limits(state))
    assert limits["MaxChargeCurrent"] == pytest.approx(state.charge_current_limit_a, abs=0.05)
    assert limits["MaxDischargePower"] == pytest.approx(state.discharge_power_limit_w / 1000, abs=0.05)

    extremes = db.decode_message(*bms_cell_extremes(state))
    assert extremes["MaxCellVoltageIndex"] == 5 and extremes["MinCellVoltageIndex"] == 18  # from 1
    assert extremes["MaxCellVoltage"] == pytest.approx(3.52, abs=0.005)
    assert extremes["MinCellVoltage"] == pytest.approx(3.11, abs=0.005)
    assert (extremes["MaxCellTemperature"], extremes["MinCellTemperature"]) == (34, 18)


def test_fault_state_and_out_of_range_values(make_rig: Callable, db: cantools.database.Database) -> None:
    rig = make_rig()
    rig.inputs.cell_temps_c = [25.0, 65.0, -60.0, 25.0]  # hot trip; a sensor colder than the DBC range
    rig.run(1.0)
    state = rig.bms.state
    status = db.decode_message(*bms_status(state, rig.bms.active_faults, 0))
    assert status["FaultActive"] == 1 and status["BmsState"] == "Fault" and status["ChargeInhibit"] == 1
    extremes = db.decode_message(*bms_cell_extremes(state))
    assert extremes["MinCellTemperature"] == -40  # clamped to the signal's range
