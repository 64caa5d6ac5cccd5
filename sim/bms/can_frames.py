"""The BMS's broadcasts on the drive's J1939 network, encoded from its state with the drive DBC
(``dbc/drive.dbc``: BMS_Status 0xFF20, BMS_Limits 0xFF21, BMS_CellExtremes 0xFF22, SA 0xF3)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import cantools

from sim.bms.contactors import ALL_OPEN, ContactorState
from sim.bms.firmware import BmsState

DBC_PATH = Path(__file__).resolve().parents[2] / "dbc" / "drive.dbc"

# DBC ContactorState: 0 Open, 1 Precharge, 2 Closed, 3 Welded, 4 PrechargeFailed
_CONTACTOR_CODE = {
    ContactorState.OPEN: 0,
    ContactorState.PRECHARGE: 1,
    ContactorState.CLOSED: 2,
    ContactorState.ERROR: 0,
}
# DBC BmsState: 0 Init, 1 Standby, 2 Precharge, 3 Ready, 4 Charging, 5 Fault
_BMS_STATE_CODE = {
    ContactorState.OPEN: 1,
    ContactorState.PRECHARGE: 2,
    ContactorState.CLOSED: 3,
    ContactorState.ERROR: 5,
    ContactorState.LATCHED: 5,
}


@cache
def _database() -> Any:
    return cantools.database.load_file(str(DBC_PATH))


def _encode(name: str, values: dict[str, float]) -> tuple[int, bytes]:
    """(29-bit arbitration id, 8 data bytes); values are clamped into each signal's DBC range."""
    message = _database().get_message_by_name(name)
    clamped = {}
    for signal in message.signals:
        value = values[signal.name]
        if signal.minimum is not None:
            value = max(value, signal.minimum)
        if signal.maximum is not None:
            value = min(value, signal.maximum)
        clamped[signal.name] = value
    return message.frame_id, bytes(message.encode(clamped))


def contactor_code(state: BmsState, welded: bool) -> int:
    if welded:
        return 3
    if state.contactor_state is ContactorState.LATCHED:
        return 4
    if state.contactor_state is ContactorState.PRECHARGE and state.contactor_command == ALL_OPEN:
        return 0  # between pre-charge attempts the contactors are open (the BmsState stays Precharge)
    return _CONTACTOR_CODE[state.contactor_state]


def bms_status(state: BmsState, active_faults: frozenset[str], counter: int) -> tuple[int, bytes]:
    bms_state = _BMS_STATE_CODE[state.contactor_state]
    if state.contactor_state is ContactorState.CLOSED and state.charging:
        bms_state = 4
    return _encode(
        "BMS_Status",
        {
            "PackVoltage": state.pack_voltage_v,
            "PackCurrent": state.pack_current_a,
            "StateOfCharge": state.soc * 100.0,
            "StateOfHealth": state.soh * 100.0,
            "ContactorState": contactor_code(state, "contactor_welded" in active_faults),
            "BalancingActive": int(state.balancing_active),
            "WarningActive": int(state.warning_active),
            "FaultActive": int(state.fault_active),
            "ChargeInhibit": int(state.charge_inhibit),
            "BmsState": bms_state,
            "MessageCounter": counter % 16,
        },
    )


def bms_limits(state: BmsState) -> tuple[int, bytes]:
    return _encode(
        "BMS_Limits",
        {
            "MaxDischargeCurrent": state.discharge_current_limit_a,
            "MaxChargeCurrent": state.charge_current_limit_a,
            "MaxDischargePower": state.discharge_power_limit_w / 1000.0,
            "MaxChargePower": state.charge_power_limit_w / 1000.0,
        },
    )


def bms_cell_extremes(state: BmsState) -> tuple[int, bytes]:
    return _encode(
        "BMS_CellExtremes",
        {
            "MaxCellVoltage": state.max_cell_v,
            "MinCellVoltage": state.min_cell_v,
            "MaxCellVoltageIndex": state.max_cell_index + 1,  # the DBC counts cells from 1
            "MinCellVoltageIndex": state.min_cell_index + 1,
            "MaxCellTemperature": state.max_temp_c,
            "MinCellTemperature": state.min_temp_c,
        },
    )
