"""The drive's own CAN face for the simple plant: EEC1 out every 20 ms, TSC1 in (SAE J1939-71).

Byte numbers below count from 0 (``data[2]``); J1939 documents count from 1 ("byte 3").
- TSC1, PGN 0 (PDU1, destination = the drive): data[0] bits 0-1 override control mode,
  data[1:3] requested speed 0.125 rpm/bit, data[3] requested torque SPN 518, 1 %/bit -125.
- EEC1, PGN 61444 from the drive: data[1] driver's demand torque, data[2] actual torque SPN 513,
  both 1 %/bit -125 of the reference torque; data[3:5] speed SPN 190, 0.125 rpm/bit, little
  endian; data[5] source address of the controlling device SPN 1483.

The simple drive follows TSC1's torque byte from any source address in every override mode, and
holds the last request (no TSC1 timeout): the full drive model brings mode handling and timeouts.
"""

from __future__ import annotations

import logging
import threading
import time

import can

from sim.profile import Profile
from sim.simulation import Simulation

log = logging.getLogger("sim.drive_ecu")

PGN_TSC1 = 0
PGN_EEC1 = 61444
PRIORITY_CONTROL = 3  # J1939-71 default for TSC1 and EEC1 [R]
GLOBAL = 0xFF
NOT_AVAILABLE = 0xFF
TORQUE_OFFSET_PERCENT = 125


def identifier(priority: int, pgn: int, source: int, destination: int = GLOBAL) -> int:
    pdu_format = (pgn >> 8) & 0xFF
    specific = destination if pdu_format < 240 else pgn & 0xFF
    return (priority << 26) | (((pgn >> 16) & 0x3) << 24) | (pdu_format << 16) | (specific << 8) | source


def torque_byte(torque_nm: float, reference_nm: float) -> int:
    return max(0, min(250, round(torque_nm / reference_nm * 100.0) + TORQUE_OFFSET_PERCENT))


class DriveEcu:
    """A thread on its own bus of the sim's CAN channel; stepped by the same simulation lock."""

    def __init__(self, bus: can.BusABC, simulation: Simulation, profile: Profile) -> None:
        self.bus = bus
        self.simulation = simulation
        self.address = int(profile["can"]["drive_source_address"])
        self.period_s = float(profile["can"]["eec1_period_s"])
        self.reference_nm = float(profile["drive"]["torque_reference_nm"])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-drive-ecu", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_send = time.monotonic()
        while not self._stop.is_set():
            message = self.bus.recv(timeout=max(0.0, next_send - time.monotonic()))
            if message is not None:
                self._receive(message)
            if time.monotonic() >= next_send:
                self._send_eec1()
                next_send += self.period_s
                if next_send < time.monotonic():
                    next_send = time.monotonic() + self.period_s  # fell behind: skip, never burst

    def _receive(self, message: can.Message) -> None:
        if not message.is_extended_id or len(message.data) < 4:
            return
        can_id = message.arbitration_id
        pdu_format, destination, source = (can_id >> 16) & 0xFF, (can_id >> 8) & 0xFF, can_id & 0xFF
        if pdu_format == PGN_TSC1 >> 8 and destination in (self.address, GLOBAL):
            torque_nm = (message.data[3] - TORQUE_OFFSET_PERCENT) / 100.0 * self.reference_nm
            with self.simulation.now() as plant:
                plant.request_torque(torque_nm, source)

    def _send_eec1(self) -> None:
        with self.simulation.now() as plant:
            demand = torque_byte(plant.torque_request_nm, self.reference_nm)
            actual = torque_byte(plant.motor_torque_nm, self.reference_nm)
            speed = min(round(abs(plant.speed_rpm) / 0.125), 0xFAFF)
            controller = plant.controlling_address
        data = bytes([0xF0, demand, actual, speed & 0xFF, speed >> 8, controller, 0xFF, NOT_AVAILABLE])
        message = can.Message(
            arbitration_id=identifier(PRIORITY_CONTROL, PGN_EEC1, self.address),
            data=data,
            is_extended_id=True,
        )
        try:
            self.bus.send(message)
        except can.CanError as exc:
            log.warning("EEC1 not sent: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
