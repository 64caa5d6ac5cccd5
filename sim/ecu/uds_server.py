"""UDS (ISO 14229-1) application layer of the simulated firmware: requests in, responses out.

No CAN here (transport is in diagnostics.py), so every rule can be tested with a fake clock.
Services, sessions and negative response codes (NRC) as in reference §5.4 and ISO 14229-1 [R].
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from sim.ecu.dtc_memory import STATUS_AVAILABILITY_MASK, DtcMemory, DtcRecord
from sim.ecu.identity import (
    PART_NUMBER_LENGTH,
    SERIAL_NUMBER_LENGTH,
    SOFTWARE_VERSION_LENGTH,
    VIN_LENGTH,
    EcuIdentity,
)
from sim.ecu.j1939_frames import dtc_bytes
from sim.ecu.security import LEVEL_CONSTANTS, expected_key

DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION = 0x01, 0x02, 0x03

NRC_SERVICE_NOT_SUPPORTED = 0x11
NRC_SUB_FUNCTION_NOT_SUPPORTED = 0x12
NRC_INCORRECT_LENGTH = 0x13
NRC_CONDITIONS_NOT_CORRECT = 0x22
NRC_REQUEST_SEQUENCE_ERROR = 0x24
NRC_REQUEST_OUT_OF_RANGE = 0x31
NRC_SECURITY_ACCESS_DENIED = 0x33
NRC_INVALID_KEY = 0x35
NRC_EXCEEDED_ATTEMPTS = 0x36
NRC_DELAY_NOT_EXPIRED = 0x37
NRC_RESPONSE_PENDING = 0x78
NRC_SERVICE_NOT_IN_SESSION = 0x7F

P2_SERVER_MS = 50  # [R]
P2_STAR_SERVER_MS = 5000  # [R]
MAX_KEY_ATTEMPTS = 3  # [E]

DID_PART_NUMBER, DID_SERIAL_NUMBER, DID_VIN, DID_SOFTWARE_VERSION = 0xF187, 0xF18C, 0xF190, 0xF195
# Snapshot record 0x01 DIDs [E]: DC-bus voltage 0.1 V/bit u16, motor speed 1 rpm/bit s16,
# temperature 1 °C/bit offset -40 u8; all-ones = not available.
DID_SNAPSHOT_DC_VOLTAGE, DID_SNAPSHOT_SPEED, DID_SNAPSHOT_TEMPERATURE = 0xD001, 0xD002, 0xD003
SNAPSHOT_RECORD = 0x01
EXTENDED_RECORD_OCCURRENCES, EXTENDED_RECORD_AGING = 0x01, 0x02
ROUTINE_SELF_TEST, ROUTINE_INSULATION_TEST = 0xFF00, 0x0203
DTC_FORMAT_J1939_73 = 0x02  # ISO 14229-1 DTCFormatIdentifier SAE_J1939-73_DTCFormat [R]

# Which sessions each service runs in; anything else answers 0x7F.
_SERVICE_SESSIONS = {
    0x10: {DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION},
    0x11: {DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION},
    0x14: {DEFAULT_SESSION, EXTENDED_SESSION},
    0x19: {DEFAULT_SESSION, EXTENDED_SESSION},
    0x22: {DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION},
    0x27: {PROGRAMMING_SESSION, EXTENDED_SESSION},
    0x2E: {EXTENDED_SESSION},
    0x31: {EXTENDED_SESSION},
    0x3E: {DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION},
}


@dataclass(frozen=True)
class UdsDefects:
    """Firmware defects of the UDS server a good test suite must catch.

    count_ignores_mask: 0x19 01 counts every stored DTC whatever the status mask.
    clear_active_only: 0x14 FFFFFF clears only the active DTCs.
    vin_volatile: a VIN written by 0x2E lives in RAM only; the next reset brings the old one back.
    any_security_key: 0x27 accepts any key.
    """

    count_ignores_mask: bool = False
    clear_active_only: bool = False
    vin_volatile: bool = False
    any_security_key: bool = False


@dataclass(frozen=True)
class Reply:
    """What to send for one request: ``response`` (None: suppressed), after ``delay_s`` during which
    the transport sends response-pending (0x78)."""

    response: bytes | None
    delay_s: float = 0.0


class _Negative(Exception):
    def __init__(self, nrc: int) -> None:
        super().__init__(f"NRC 0x{nrc:02X}")
        self.nrc = nrc


def uds_dtc_number(spn: int, fmi: int) -> int:
    """The 3-byte UDS DTC of a J1939 SPN/FMI: the first three bytes of the J1939 DTC [R]."""
    return int.from_bytes(dtc_bytes(spn, fmi, 0)[:3], "big")


def _ascii(value: str, length: int) -> bytes:
    return value.encode("ascii").ljust(length, b" ")


class UdsServer:
    def __init__(
        self,
        identity: EcuIdentity,
        memory: DtcMemory,
        *,
        clock: Callable[[], float] = time.monotonic,
        s3_timeout_s: float = 5.0,
        security_lockout_s: float = 10.0,
        insulation_test_s: float = 0.3,
        insulation_resistance_kohm: Callable[[], float] = lambda: 5000.0,
        on_hard_reset: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        self_test_result: int = 0x00,
        defects: UdsDefects | None = None,
    ) -> None:
        self.identity = identity
        self._stored_vin = identity.vin  # non-volatile memory: what a reset restores
        self._memory = memory
        self._clock = clock
        self._s3_timeout_s = s3_timeout_s
        self._lockout_s = security_lockout_s
        self._insulation_test_s = insulation_test_s
        self._insulation_resistance_kohm = insulation_resistance_kohm
        self._on_hard_reset = on_hard_reset
        self._rng = rng or random.Random()
        self._self_test_result = self_test_result
        self._defects = defects or UdsDefects()
        self.session = DEFAULT_SESSION
        self.unlocked_level: int | None = None
        self._seed: tuple[int, bytes] | None = None
        self._failed_attempts = 0
        self._locked_out_until_s = float("-inf")
        self._last_request_s = clock()
        self._routine_results: dict[int, bytes] = {}

    # -- entry points --------------------------------------------------------------------------
    def handle(self, request: bytes) -> Reply:
        self._last_request_s = self._clock()
        if not request:
            return Reply(None)
        sid = request[0]
        handler = self._handlers().get(sid)
        try:
            if handler is None:
                raise _Negative(NRC_SERVICE_NOT_SUPPORTED)
            if self.session not in _SERVICE_SESSIONS[sid]:
                raise _Negative(NRC_SERVICE_NOT_IN_SESSION)
            return handler(request)
        except _Negative as negative:
            return Reply(bytes([0x7F, sid, negative.nrc]))

    def tick(self) -> None:
        """S3: a non-default session with no request for ``s3_timeout_s`` falls back to default."""
        if self.session != DEFAULT_SESSION and self._clock() - self._last_request_s > self._s3_timeout_s:
            self._enter_session(DEFAULT_SESSION)

    def _handlers(self) -> dict[int, Callable[[bytes], Reply]]:
        return {
            0x10: self._session_control,
            0x11: self._ecu_reset,
            0x14: self._clear_dtcs,
            0x19: self._read_dtc_information,
            0x22: self._read_data_by_identifier,
            0x27: self._security_access,
            0x2E: self._write_data_by_identifier,
            0x31: self._routine_control,
            0x3E: self._tester_present,
        }

    def _enter_session(self, session: int) -> None:
        self.session = session
        self.unlocked_level = None
        self._seed = None

    @staticmethod
    def _positive(request: bytes, body: bytes, suppressible: bool = False) -> Reply:
        if suppressible and request[1] & 0x80:
            return Reply(None)
        return Reply(bytes([request[0] + 0x40]) + body)

    # -- 0x10, 0x11, 0x3E ----------------------------------------------------------------------
    def _session_control(self, request: bytes) -> Reply:
        if len(request) != 2:
            raise _Negative(NRC_INCORRECT_LENGTH)
        session = request[1] & 0x7F
        if session not in (DEFAULT_SESSION, PROGRAMMING_SESSION, EXTENDED_SESSION):
            raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)
        if session == PROGRAMMING_SESSION and self.session == DEFAULT_SESSION:
            raise _Negative(NRC_CONDITIONS_NOT_CORRECT)  # programming only from extended [E]
        self._enter_session(session)
        timing = P2_SERVER_MS.to_bytes(2, "big") + (P2_STAR_SERVER_MS // 10).to_bytes(2, "big")
        return self._positive(request, bytes([session]) + timing, suppressible=True)

    def _ecu_reset(self, request: bytes) -> Reply:
        if len(request) != 2:
            raise _Negative(NRC_INCORRECT_LENGTH)
        if request[1] & 0x7F != 0x01:
            raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)
        reply = self._positive(request, bytes([0x01]), suppressible=True)
        self.identity = replace(self.identity, vin=self._stored_vin)
        self._enter_session(DEFAULT_SESSION)
        self._routine_results.clear()
        if self._on_hard_reset is not None:
            self._on_hard_reset()
        return reply

    def _tester_present(self, request: bytes) -> Reply:
        if len(request) != 2:
            raise _Negative(NRC_INCORRECT_LENGTH)
        if request[1] & 0x7F != 0x00:
            raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)
        return self._positive(request, bytes([0x00]), suppressible=True)

    # -- 0x14, 0x19 ----------------------------------------------------------------------------
    def _clear_dtcs(self, request: bytes) -> Reply:
        if len(request) != 4:
            raise _Negative(NRC_INCORRECT_LENGTH)
        if request[1:4] != b"\xff\xff\xff":
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)  # only "all groups" is supported
        if self._defects.clear_active_only:
            self._memory.clear_active()
        else:
            self._memory.clear_all()
        return self._positive(request, b"")

    def _read_dtc_information(self, request: bytes) -> Reply:
        if len(request) < 2:
            raise _Negative(NRC_INCORRECT_LENGTH)
        sub = request[1]
        if sub in (0x01, 0x02):
            if len(request) != 3:
                raise _Negative(NRC_INCORRECT_LENGTH)
            matching = [r for r in self._memory.records() if r.status & request[2]]
            if sub == 0x01:
                counted = self._memory.records() if self._defects.count_ignores_mask else matching
                count = len(counted).to_bytes(2, "big")
                return self._positive(
                    request, bytes([0x01, STATUS_AVAILABILITY_MASK, DTC_FORMAT_J1939_73]) + count
                )
            body = b"".join(self._dtc_and_status(r) for r in matching)
            return self._positive(request, bytes([0x02, STATUS_AVAILABILITY_MASK]) + body)
        if sub in (0x04, 0x06):
            if len(request) != 6:
                raise _Negative(NRC_INCORRECT_LENGTH)
            record = self._record_of(int.from_bytes(request[2:5], "big"))
            number = request[5]
            if sub == 0x04:
                return self._positive(request, bytes([0x04]) + self._snapshot(record, number))
            return self._positive(request, bytes([0x06]) + self._extended_data(record, number))
        raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)

    def _record_of(self, uds_dtc: int) -> DtcRecord:
        for record in self._memory.records():
            if uds_dtc_number(record.spn, record.fmi) == uds_dtc:
                return record
        raise _Negative(NRC_REQUEST_OUT_OF_RANGE)

    @staticmethod
    def _dtc_and_status(record: DtcRecord) -> bytes:
        number = uds_dtc_number(record.spn, record.fmi).to_bytes(3, "big")
        return number + bytes([int(record.status) & STATUS_AVAILABILITY_MASK])

    def _snapshot(self, record: DtcRecord, number: int) -> bytes:
        if number not in (SNAPSHOT_RECORD, 0xFF):
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)
        head = self._dtc_and_status(record)
        if record.snapshot is None:
            return head
        values = record.snapshot

        def scaled(key: str, scale: float, offset: float, size: int, signed: bool = False) -> bytes:
            if key not in values:
                return b"\xff" * size
            raw = round((values[key] - offset) / scale)
            return raw.to_bytes(size, "big", signed=signed)

        dids = (
            (DID_SNAPSHOT_DC_VOLTAGE, scaled("dc_voltage_v", 0.1, 0.0, 2)),
            (DID_SNAPSHOT_SPEED, scaled("speed_rpm", 1.0, 0.0, 2, signed=True)),
            (DID_SNAPSHOT_TEMPERATURE, scaled("temperature_c", 1.0, -40.0, 1)),
        )
        body = bytes([SNAPSHOT_RECORD, len(dids)])
        body += b"".join(did.to_bytes(2, "big") + data for did, data in dids)
        return head + body

    def _extended_data(self, record: DtcRecord, number: int) -> bytes:
        available = {
            EXTENDED_RECORD_OCCURRENCES: record.occurrences,
            EXTENDED_RECORD_AGING: record.aging_cycles,
        }
        if number == 0xFF:
            wanted = sorted(available)
        elif number in available:
            wanted = [number]
        else:
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)
        body = b"".join(bytes([n, min(available[n], 0xFF)]) for n in wanted)
        return self._dtc_and_status(record) + body

    # -- 0x22, 0x2E ----------------------------------------------------------------------------
    def _did_values(self) -> dict[int, bytes]:
        ident = self.identity
        return {
            DID_PART_NUMBER: _ascii(ident.part_number, PART_NUMBER_LENGTH),
            DID_SERIAL_NUMBER: _ascii(ident.serial_number, SERIAL_NUMBER_LENGTH),
            DID_VIN: _ascii(ident.vin, VIN_LENGTH),
            DID_SOFTWARE_VERSION: _ascii(ident.software_version, SOFTWARE_VERSION_LENGTH),
        }

    def _read_data_by_identifier(self, request: bytes) -> Reply:
        if len(request) < 3 or len(request) % 2 == 0:
            raise _Negative(NRC_INCORRECT_LENGTH)
        values = self._did_values()
        body = b""
        for index in range(1, len(request), 2):
            did = int.from_bytes(request[index : index + 2], "big")
            if did not in values:
                raise _Negative(NRC_REQUEST_OUT_OF_RANGE)
            body += request[index : index + 2] + values[did]
        return self._positive(request, body)

    def _write_data_by_identifier(self, request: bytes) -> Reply:
        if len(request) < 4:
            raise _Negative(NRC_INCORRECT_LENGTH)
        if int.from_bytes(request[1:3], "big") != DID_VIN:
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)  # unknown, or not writable
        if self.unlocked_level is None:
            raise _Negative(NRC_SECURITY_ACCESS_DENIED)
        if len(request) != 3 + VIN_LENGTH:
            raise _Negative(NRC_INCORRECT_LENGTH)
        vin = request[3:]
        if not all(0x20 < b < 0x7F for b in vin):
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)
        self.identity = replace(self.identity, vin=vin.decode("ascii"))
        if not self._defects.vin_volatile:
            self._stored_vin = self.identity.vin
        return self._positive(request, request[1:3])

    # -- 0x27 ----------------------------------------------------------------------------------
    def _security_access(self, request: bytes) -> Reply:
        if len(request) < 2:
            raise _Negative(NRC_INCORRECT_LENGTH)
        sub = request[1]
        level = sub if sub % 2 else sub - 1
        if level not in LEVEL_CONSTANTS:
            raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)
        if self._clock() < self._locked_out_until_s:
            raise _Negative(NRC_DELAY_NOT_EXPIRED)
        if sub % 2:  # requestSeed
            if len(request) != 2:
                raise _Negative(NRC_INCORRECT_LENGTH)
            if self.unlocked_level == level:
                return self._positive(request, bytes([sub]) + bytes(4))  # already unlocked: zero seed
            seed = self._rng.randrange(1, 1 << 32).to_bytes(4, "big")
            self._seed = (level, seed)
            return self._positive(request, bytes([sub]) + seed)
        if len(request) != 6:
            raise _Negative(NRC_INCORRECT_LENGTH)
        if self._seed is None or self._seed[0] != level:
            raise _Negative(NRC_REQUEST_SEQUENCE_ERROR)
        seed = self._seed[1]
        self._seed = None
        if request[2:] != expected_key(level, seed) and not self._defects.any_security_key:
            self._failed_attempts += 1
            if self._failed_attempts >= MAX_KEY_ATTEMPTS:
                self._failed_attempts = 0
                self._locked_out_until_s = self._clock() + self._lockout_s
                raise _Negative(NRC_EXCEEDED_ATTEMPTS)
            raise _Negative(NRC_INVALID_KEY)
        self._failed_attempts = 0
        self.unlocked_level = level
        return self._positive(request, bytes([sub]))

    # -- 0x31 ----------------------------------------------------------------------------------
    def _routine_control(self, request: bytes) -> Reply:
        if len(request) < 4:
            raise _Negative(NRC_INCORRECT_LENGTH)
        control = request[1] & 0x7F
        routine = int.from_bytes(request[2:4], "big")
        if control not in (0x01, 0x03):
            raise _Negative(NRC_SUB_FUNCTION_NOT_SUPPORTED)  # stopRoutine is not supported
        if routine not in (ROUTINE_SELF_TEST, ROUTINE_INSULATION_TEST):
            raise _Negative(NRC_REQUEST_OUT_OF_RANGE)
        head = bytes([control]) + request[2:4]
        if control == 0x03:
            if routine not in self._routine_results:
                raise _Negative(NRC_REQUEST_SEQUENCE_ERROR)
            return self._positive(request, head + self._routine_results[routine])
        if routine == ROUTINE_SELF_TEST:
            result = bytes([self._self_test_result])  # 0x00 passed
            self._routine_results[routine] = result
            return self._positive(request, head + result)
        # Insulation test [E]: takes insulation_test_s; result: status 0x00 + resistance in kΩ (u16).
        kohm = max(0, min(0xFFFF, round(self._insulation_resistance_kohm())))
        result = bytes([0x00]) + kohm.to_bytes(2, "big")
        self._routine_results[routine] = result
        return Reply(self._positive(request, head + result).response, delay_s=self._insulation_test_s)
