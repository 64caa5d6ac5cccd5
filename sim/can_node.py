"""The drive system's CAN face on the simulated bench.

Frames are produced by the plant on simulated time (each on its own period, from the state at that
instant; INV_Faults also in the step a fault bit changes) into an outbox; a thread keeps simulated
time moving and sends the outbox. Received: TSC1 (torque or, in override control mode 1, speed
request, SAE J1939-71) for the drive and VCU_BmsCommand (contactors, fault reset) for the BMS.
Byte numbers count from 0; J1939 documents count from 1.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import can
import cantools

from hil.realtime import raise_thread_priority
from sim.bms import can_frames as bms_frames
from sim.bms.firmware import BmsState
from sim.plant.drive_plant import DrivePlant
from sim.simulation import Simulation
from sim.socketcand import frame_problem
from sim.transmission import can_frames as tx_frames

log = logging.getLogger("sim.can_node")

DBC_PATH = Path(__file__).resolve().parents[1] / "dbc" / "drive.dbc"
PGN_TSC1 = 0
PGN_VCU_BMS_COMMAND = 0xFF23
TORQUE_OFFSET_PERCENT = 125
SPEED_CONTROL = 1  # TSC1 override control mode (SPN 695) speed control [R]
SPEED_RESOLUTION_RPM = 0.125  # TSC1 requested speed (SPN 898) [R]
TICK_S = 0.005  # how often the node moves simulated time on when nobody else asks
# BMS_Limits also goes out at once when a limit falls by more than this since the last one [E]: the
# VCU learns of a cut without waiting up to a period, and a taper does not flood the bus
LIMIT_FALL_A = 5.0

Frame = tuple[int, bytes]
# the drive's protections that have a bit in INV_Faults, and the bit's signal
INVERTER_FAULT_BITS = {
    "dc_overvoltage_warning": "DcOverVoltageWarning",
    "dc_overvoltage": "DcOverVoltageTrip",
    "dc_overvoltage_hardware": "DcOverVoltageHardware",
    "dc_undervoltage": "DcUnderVoltageTrip",
    "phase_overcurrent": "PhaseOverCurrentSoftware",
    "heatsink_overtemperature": "HeatsinkOverTempTrip",
    "winding_overtemperature": "MotorOverTempTrip",
    "overspeed": "Overspeed",
    "command_timeout": "CanCommandTimeout",
}


def identifier(priority: int, pgn: int, source: int, destination: int = 0xFF) -> int:
    pdu_format = (pgn >> 8) & 0xFF
    specific = destination if pdu_format < 240 else pgn & 0xFF
    return (priority << 26) | (((pgn >> 16) & 0x3) << 24) | (pdu_format << 16) | (specific << 8) | source


class DriveFrames:
    """What the drive system broadcasts, each frame on its own period of simulated time."""

    def __init__(self, plant: DrivePlant) -> None:
        can_params = plant.profile["can"]
        self.drive_address = int(can_params["drive_address"])
        self.reference_nm = can_params["torque_reference"]
        self._db = cantools.database.load_file(DBC_PATH)
        self._inverter_counter = 0
        self._bms_counter = 0
        status = can_params["status_period"]
        self.schedule: list[tuple[str, float, Callable[[DrivePlant], list[Frame]]]] = [
            ("EEC1", can_params["eec1_period"], self._eec1),
            ("ETC1", can_params["etc1_period"], lambda p: [_tx(tx_frames.etc1(p.tx.state))]),
            ("INV_Status", can_params["eec1_period"], self._inverter_status),
            (
                "ETC2+CCVS1",
                status,
                lambda p: [
                    _tx(tx_frames.etc2(p.tx.state, p.tx.etc2_gear_offset)),
                    _tx(tx_frames.ccvs1(p.tx.state)),
                ],
            ),
            ("INV_Faults", status, self._inverter_faults),
            ("INV_Temperatures", status, self._inverter_temperatures),
            ("BMS_Status+Limits", status, self._bms_status),
            ("BMS_CellExtremes", 5 * status, lambda p: [bms_frames.bms_cell_extremes(p.bms.state)]),
        ]
        self._due = [0.0] * len(self.schedule)
        self._faults_sent: frozenset[str] | None = None
        self._limits_sent: tuple[float, float] | None = None  # (charge A, discharge A)

    def due(self, plant: DrivePlant) -> list[tuple[float, Frame]]:
        out = []
        for i, (_, period, encode) in enumerate(self.schedule):
            if plant.time_s + 1e-9 >= self._due[i]:
                self._due[i] += period * max(1, math.floor((plant.time_s - self._due[i]) / period) + 1)
                out += [(plant.time_s, frame) for frame in encode(plant)]
        # INV_Faults is "100 ms + on change" (dbc/README.md): a bit that changed goes out at once,
        # between the periodic frames, whose period stays as it was
        if plant.drive.active_faults & INVERTER_FAULT_BITS.keys() != self._faults_sent:
            out += [(plant.time_s, frame) for frame in self._inverter_faults(plant)]
        # BMS_Limits is "100 ms + on a fall" (dbc/README.md)
        state, sent = plant.bms.state, self._limits_sent
        if sent is not None and (
            state.charge_current_limit_a < sent[0] - LIMIT_FALL_A
            or state.discharge_current_limit_a < sent[1] - LIMIT_FALL_A
        ):
            out.append((plant.time_s, self._bms_limits(state)))
        return out

    def _torque_byte(self, torque_nm: float) -> int:
        return max(0, min(250, round(torque_nm / self.reference_nm * 100.0) + TORQUE_OFFSET_PERCENT))

    def _eec1(self, plant: DrivePlant) -> list[Frame]:
        speed = min(round(abs(plant.motor_speed_rpm) / 0.125), 0xFAFF)
        data = bytes(
            [
                0xF0,
                self._torque_byte(plant.torque_request_nm),
                self._torque_byte(plant.motor_torque_nm),
                speed & 0xFF,
                speed >> 8,
                plant.controlling_address,
                0xFF,
                0xFF,
            ]
        )
        return [(identifier(3, 0xF004, self.drive_address), data)]

    def _encode(self, name: str, values: dict[str, float]) -> Frame:
        message = self._db.get_message_by_name(name)
        clamped = {}
        for signal in message.signals:
            value = values.get(signal.name, 0)
            clamped[signal.name] = min(max(value, signal.minimum), signal.maximum)
        return message.frame_id, message.encode(clamped, padding=True)

    def _inverter_status(self, plant: DrivePlant) -> list[Frame]:
        state = plant.drive.state
        faults = plant.drive.active_faults
        self._inverter_counter = (self._inverter_counter + 1) & 0xF
        values = {
            "InverterState": 2 if state.pwm_enabled else (4 if faults else 1),
            "ControlMode": 2 if plant.speed_control_active else 1,
            "PwmEnabled": int(state.pwm_enabled),
            "DeratingActive": int(state.derating),
            "DcBusVoltage": plant.dc_link_voltage_v,
            "DcBusCurrent": state.i_dc_a,
            "MotorTorque": state.torque_nm,
            "WarningActive": int(any("warning" in f for f in faults)),
            "FaultActive": int(any("warning" not in f for f in faults)),
            "MessageCounter": self._inverter_counter,
        }
        return [self._encode("INV_Status", values)]

    def _inverter_faults(self, plant: DrivePlant) -> list[Frame]:
        self._faults_sent = plant.drive.active_faults & INVERTER_FAULT_BITS.keys()
        bits = {signal: int(name in self._faults_sent) for name, signal in INVERTER_FAULT_BITS.items()}
        return [self._encode("INV_Faults", bits)]

    def _inverter_temperatures(self, plant: DrivePlant) -> list[Frame]:
        state = plant.drive.state
        temperatures = {
            "HeatsinkTemperature": state.heatsink_temp_c,
            "MotorWindingTemperature": state.winding_temp_c,
            "CoolantTemperature": plant.coolant_c,
            "IgbtTemperaturePhaseU": state.heatsink_temp_c,
            "IgbtTemperaturePhaseV": state.heatsink_temp_c,
            "IgbtTemperaturePhaseW": state.heatsink_temp_c,
        }
        return [self._encode("INV_Temperatures", temperatures)]

    def _bms_status(self, plant: DrivePlant) -> list[Frame]:
        self._bms_counter = (self._bms_counter + 1) & 0xF
        state = plant.bms.state
        status = bms_frames.bms_status(state, plant.bms.active_faults, self._bms_counter)
        return [status, self._bms_limits(state)]

    def _bms_limits(self, state: BmsState) -> Frame:
        self._limits_sent = (state.charge_current_limit_a, state.discharge_current_limit_a)
        return bms_frames.bms_limits(state)


def _tx(frame: tx_frames.Frame) -> Frame:
    return frame.arbitration_id, frame.data


class DriveCanNode:
    """A thread on its own bus of the simulation's CAN channel, sharing the simulation's lock."""

    def __init__(self, bus: can.BusABC, simulation: Simulation) -> None:
        plant = simulation.plant
        assert isinstance(plant, DrivePlant)
        self.bus, self.simulation, self.plant = bus, simulation, plant
        self.frames = DriveFrames(plant)
        self.outbox: deque[tuple[float, Frame]] = deque()
        self.drive_address = self.frames.drive_address
        self.bms_address = int(plant.profile["can"]["bms_address"])
        plant.on_step = self._on_step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-drive-can", daemon=True)
        self._thread.start()

    def _on_step(self, plant: DrivePlant) -> None:
        self.outbox.extend(self.frames.due(plant))

    def _run(self) -> None:
        raise_thread_priority(realtime=False)  # it catches up without sleeping when behind
        next_tick = time.monotonic()
        while not self._stop.is_set():
            message = self.bus.recv(timeout=max(0.0, next_tick - time.monotonic()))
            if message is not None:
                self._receive(message)
            if time.monotonic() >= next_tick:
                with self.simulation.now():
                    pending = list(self.outbox)
                    self.outbox.clear()
                self._send(pending)
                next_tick = max(next_tick + TICK_S, time.monotonic())

    def _receive(self, message: can.Message) -> None:
        if not message.is_extended_id or len(message.data) < 2:
            return
        problem = frame_problem(message)
        if problem is not None:
            # on the in-process bench nothing stands between a test's bus and this node
            log.warning("frame %X ignored: %s", message.arbitration_id, problem)
            return
        can_id = message.arbitration_id
        pdu_format, specific, source = (can_id >> 16) & 0xFF, (can_id >> 8) & 0xFF, can_id & 0xFF
        if pdu_format == PGN_TSC1 >> 8 and specific in (self.drive_address, 0xFF) and len(message.data) >= 4:
            data = message.data
            with self.simulation.now() as plant:
                if data[0] & 0x3 == SPEED_CONTROL:
                    plant.request_speed((data[1] | data[2] << 8) * SPEED_RESOLUTION_RPM, source)
                else:
                    torque_nm = (data[3] - TORQUE_OFFSET_PERCENT) / 100.0 * self.frames.reference_nm
                    plant.request_torque(torque_nm, source)
        elif (pdu_format << 8 | specific) == PGN_VCU_BMS_COMMAND:
            with self.simulation.now() as plant:
                plant.command_bms(bool(message.data[0] & 1), bool(message.data[0] & 2))

    def _send(self, pending: list[tuple[float, Frame]]) -> None:
        for _, (arbitration_id, data) in pending:
            try:
                self.bus.send(can.Message(arbitration_id=arbitration_id, data=data, is_extended_id=True))
            except can.CanError as exc:
                log.warning("frame %08X not sent: %s", arbitration_id, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self.plant.on_step = None
