"""The transmission's J1939 broadcasts (ETC1, ETC2, CCVS1), encoded from its state with the drive DBC.

Field choices [E] where the model has nothing to say: 2-bit states the AMT does not have (torque
converter lockup, momentary overspeed, progressive shift disable, two-speed axle, parking brake,
cruise control, clutch pedal) are 3 = not available [R]; ranges SPN 162/163 are 0xFFFF = not
available; percent clutch slip is 0 (no clutch; the not-available byte 0xFF would be 102 %,
outside the DBC's 0..100 % range, so strict encoding refuses it); the source address of the
controlling device (SPN 1482) is the TCU's own. SPN 191/161/84 are unsigned: speeds are clamped
at 0 (rolling back reads 0) and at the signal's maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cantools

from sim.transmission.model import NEUTRAL, TransmissionState

DBC_FILE = Path(__file__).resolve().parents[2] / "dbc" / "drive.dbc"
NOT_AVAILABLE_2BIT = 3
NOT_AVAILABLE_16BIT = 0xFFFF
_RPM_PER_RAD_S = 30.0 / math.pi
_KMH_PER_M_S = 3.6


@dataclass(frozen=True)
class Frame:
    name: str
    arbitration_id: int  # 29-bit J1939 identifier (extended frame)
    data: bytes
    period_s: float  # the DBC's GenMsgCycleTime


@cache
def drive_database() -> cantools.database.can.Database:
    return cantools.database.load_file(DBC_FILE)


def _clamp_to_signal(message: cantools.database.can.Message, signal: str, value: float) -> float:
    s = message.get_signal_by_name(signal)
    return min(max(value, s.minimum), s.maximum)


def _frame(name: str, values: dict[str, float]) -> Frame:
    message = drive_database().get_message_by_name(name)
    # padding: J1939 sends bits no signal uses as 1 [R]
    return Frame(
        name, message.frame_id, bytes(message.encode(values, padding=True)), message.cycle_time / 1000.0
    )


def source_address(name: str) -> int:
    return drive_database().get_message_by_name(name).frame_id & 0xFF


def etc1(state: TransmissionState) -> Frame:
    """ETC1, PGN 61442: shift in process (SPN 574), output (SPN 191) and input (SPN 161) shaft speed."""
    message = drive_database().get_message_by_name("ETC1")
    return _frame(
        "ETC1",
        {
            "DrivelineEngaged": 1 if state.driveline_engaged else 0,
            "TorqueConverterLockupEngaged": NOT_AVAILABLE_2BIT,
            "ShiftInProcess": 1 if state.shift_in_process else 0,
            "OutputShaftSpeed": _clamp_to_signal(
                message, "OutputShaftSpeed", state.output_shaft_speed_rad_s * _RPM_PER_RAD_S
            ),
            "PercentClutchSlip": 0,
            "MomentaryOverspeedEnable": NOT_AVAILABLE_2BIT,
            "ProgressiveShiftDisable": NOT_AVAILABLE_2BIT,
            "InputShaftSpeed": _clamp_to_signal(
                message, "InputShaftSpeed", state.input_shaft_speed_rad_s * _RPM_PER_RAD_S
            ),
            "SrcAddrOfControllingDevice": source_address("ETC1"),
        },
    )


def _reported(gear: int, offset: int) -> int:
    return gear + offset if gear != NEUTRAL else NEUTRAL


def etc2(state: TransmissionState, gear_offset: int = 0) -> Frame:
    """ETC2, PGN 61445: selected gear (SPN 524), actual gear ratio (SPN 526), current gear (SPN 523).

    ``gear_offset`` is added to a gear's number (neutral stays 0): 0 on a good unit (the
    ``etc2_gear_offset`` parameter)."""
    message = drive_database().get_message_by_name("ETC2")
    return _frame(
        "ETC2",
        {
            "SelectedGear": _reported(state.selected_gear, gear_offset),
            "ActualGearRatio": _clamp_to_signal(message, "ActualGearRatio", state.gear_ratio),
            "CurrentGear": _reported(state.current_gear, gear_offset),
            "RequestedRange": NOT_AVAILABLE_16BIT,
            "CurrentRange": NOT_AVAILABLE_16BIT,
        },
    )


def ccvs1(state: TransmissionState) -> Frame:
    """CCVS1, PGN 65265: wheel-based vehicle speed (SPN 84), brake switch (SPN 597)."""
    message = drive_database().get_message_by_name("CCVS1")
    return _frame(
        "CCVS1",
        {
            "TwoSpeedAxleSwitch": NOT_AVAILABLE_2BIT,
            "ParkingBrakeSwitch": NOT_AVAILABLE_2BIT,
            "CruiseCtrlPauseSwitch": NOT_AVAILABLE_2BIT,
            "WheelBasedVehicleSpeed": _clamp_to_signal(
                message, "WheelBasedVehicleSpeed", state.vehicle_speed_m_s * _KMH_PER_M_S
            ),
            "CruiseControlActive": NOT_AVAILABLE_2BIT,
            "CruiseCtrlEnableSwitch": NOT_AVAILABLE_2BIT,
            "BrakeSwitch": 1 if state.brake else 0,
            "ClutchSwitch": NOT_AVAILABLE_2BIT,
        },
    )


def all_frames(state: TransmissionState, gear_offset: int = 0) -> list[Frame]:
    return [etc1(state), etc2(state, gear_offset), ccvs1(state)]
