"""UDS (ISO 14229) client on the tester side: a udsoncan Client over can-isotp, 29-bit normal fixed
addressing (physical 0x18DA<ecu><tester>, functional 0x18DB33<tester>) [R: reference §5.4].

The DID codecs and the SecurityAccess key algorithm are the tester's own; the simulated ECU has
its own implementation of each, so a disagreement shows up as a failing test.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import can
import isotp
import udsoncan
from udsoncan.client import Client
from udsoncan.connections import PythonIsoTpConnection

from hil.dut.j1939 import TESTER_ADDRESS
from hil.realtime import threads_started_ahead

P2_SERVER_S = 0.050  # [R]
P2_STAR_SERVER_S = 5.0  # [R]
# What the client allows beyond P2server for the round trip through its own stack and the bus [E].
P2_CLIENT_MARGIN_S = 0.2

DID_PART_NUMBER = 0xF187
DID_ECU_SERIAL_NUMBER = 0xF18C
DID_VIN = 0xF190
DID_SOFTWARE_VERSION = 0xF195
# Snapshot record 0x01 of a DTC [E]: DC-bus voltage, motor speed, temperature when the DTC last set.
DID_SNAPSHOT_DC_VOLTAGE = 0xD001
DID_SNAPSHOT_SPEED = 0xD002
DID_SNAPSHOT_TEMPERATURE = 0xD003
# Test calibration [E]: the SW phase over-current trip level, A peak (0.1 A/bit); written in the
# extended session once unlocked, it lasts until the session ends (dbc/README.md).
DID_OVERCURRENT_TRIP_TEST = 0xFD10
# Live data [E]: the BMS's state of charge, finer than BMS_Status's 0.4 % (a coulomb counter's gain
# shows in minutes, not hours)
DID_BMS_SOC = 0xD010
EXTENDED_DATA_OCCURRENCE_COUNTER = 0x01
EXTENDED_DATA_AGING_COUNTER = 0x02

ROUTINE_SELF_TEST = 0xFF00
ROUTINE_INSULATION_TEST = 0x0203
ROUTINE_RESULT_PASSED = 0x00  # first byte of a routine's status record [E]
ALL_DTC_GROUPS = 0xFFFFFF  # 0x14 groupOfDTC "all groups" [S: reference §2.4 DIAG-05]

# Fixed DID lengths [E]: values shorter than the field are padded with spaces.
DID_LENGTHS = {DID_PART_NUMBER: 16, DID_ECU_SERIAL_NUMBER: 16, DID_VIN: 17, DID_SOFTWARE_VERSION: 16}

# SecurityAccess [E]: a documented stand-in for the proprietary algorithm:
# key = rotate_left_32(seed XOR constant[level], 7), seed and key 4 bytes big endian.
SECURITY_CONSTANTS = {0x01: 0x5A3C9E17, 0x03: 0xC3D2E1F0}
SECURITY_LEVEL_EOL = 0x01  # end of line, in the extended session; 0x03 is programming


def security_key(level: int, seed: bytes) -> bytes:
    """The key for ``seed`` at security level ``level`` (the odd requestSeed sub-function)."""
    if level not in SECURITY_CONSTANTS:
        raise ValueError(f"security level 0x{level:02X}: known levels are {sorted(SECURITY_CONSTANTS)}")
    if len(seed) != 4:
        raise ValueError(f"security seed {seed.hex()}: must be 4 bytes")
    value = int.from_bytes(seed, "big") ^ SECURITY_CONSTANTS[level]
    return (((value << 7) | (value >> 25)) & 0xFFFFFFFF).to_bytes(4, "big")


def _security_algo(level: int, seed: bytes, params: Any = None) -> bytes:
    # udsoncan calls this with keyword arguments named level, seed, params.
    return security_key(level, seed)


class PaddedAsciiCodec(udsoncan.DidCodec):
    """ASCII in a fixed-length field, right-padded with spaces; decodes without the padding."""

    def __init__(self, length: int, did: int | None = None) -> None:
        self.length = length
        self._what = "DID value" if did is None else f"DID 0x{did:04X}"

    def encode(self, value: Any) -> bytes:  # type: ignore[override]
        if not isinstance(value, str) or not value.isascii() or len(value) > self.length:
            raise ValueError(f"DID value {value!r}: must be ASCII text of at most {self.length} characters")
        return value.encode("ascii").ljust(self.length, b" ")

    def decode(self, payload: bytes) -> Any:
        try:
            return payload.decode("ascii").rstrip(" ")
        except UnicodeDecodeError as exc:
            # udsoncan passes a codec's error on as it is: this one names the DID and the bytes
            raise ValueError(
                f"malformed response: {self._what} is {payload.hex(' ')}, not ASCII text "
                f"(byte {exc.start} is 0x{payload[exc.start]:02X})"
            ) from None

    def __len__(self) -> int:
        return self.length


class ScaledCodec(udsoncan.DidCodec):
    """An integer field big endian, value = raw · scale + offset; all ones decodes to None."""

    def __init__(self, size: int, scale: float, offset: float = 0.0, signed: bool = False) -> None:
        self.size, self.scale, self.offset, self.signed = size, scale, offset, signed

    def encode(self, value: Any) -> bytes:  # type: ignore[override]
        return round((value - self.offset) / self.scale).to_bytes(self.size, "big", signed=self.signed)

    def decode(self, payload: bytes) -> Any:
        if payload == b"\xff" * self.size:
            return None
        return int.from_bytes(payload, "big", signed=self.signed) * self.scale + self.offset

    def __len__(self) -> int:
        return self.size


FLOW_CONTROL_PCI = 0x3  # an ISO-TP flow control frame's PCI type (ISO 15765-2) [R]


class TimedConnection(PythonIsoTpConnection):
    """ISO-TP connection that keeps, for every request, the seconds until the ECU's first answer:
    the response, or a response-pending (0x78) if one came first. P2server bounds exactly that
    [R: ISO 14229-2]; the client's own timeouts then hold the final response to P2*server.

    Measured on the tester from handing the request to ISO-TP to the answer's first frame reaching
    the CAN link's reader (a flow control the ECU sends for a long request is no answer), so the
    transport both ways is included: an upper bound of the server's own time. Not where the test
    thread wakes for the whole answer: on a busy machine that adds the wait for its turn. The
    stack's threads start at nice -10 where the process may raise them, as the link's reader does.
    """

    def __init__(self, stack: isotp.NotifierBasedCanStack, name: str | None = None) -> None:
        super().__init__(stack, name)
        self.first_answer_s: list[float] = []
        self._notifier = stack.notifier
        self._answer_id = stack.address.get_rx_arbitration_id()
        self._pci_at = stack.address.get_rx_prefix_size()
        self._sent_at: float | None = None
        self._answered_at: float | None = None

    def open(self) -> TimedConnection:
        with threads_started_ahead():
            super().open()
        self._notifier.add_listener(self._on_frame)
        return self

    def close(self) -> None:
        if self._on_frame in self._notifier.listeners:
            self._notifier.remove_listener(self._on_frame)
        super().close()

    def _on_frame(self, msg: can.Message) -> None:
        if (
            self._sent_at is not None
            and self._answered_at is None
            and msg.arbitration_id == self._answer_id
            and len(msg.data) > self._pci_at
            and msg.data[self._pci_at] >> 4 != FLOW_CONTROL_PCI
        ):
            self._answered_at = time.monotonic()

    def specific_send(self, payload: bytes, timeout: float | None = None) -> None:
        self._answered_at = None
        self._sent_at = time.monotonic()
        super().specific_send(payload, timeout)

    def specific_wait_frame(self, timeout: float | None = None) -> bytes | None:
        frame = super().specific_wait_frame(timeout)
        if self._sent_at is not None:
            answered = self._answered_at if self._answered_at is not None else time.monotonic()
            self.first_answer_s.append(answered - self._sent_at)
            self._sent_at = None
        return frame


_RESPONSE_ERRORS = (
    udsoncan.exceptions.NegativeResponseException,
    udsoncan.exceptions.InvalidResponseException,
    udsoncan.exceptions.UnexpectedResponseException,
    udsoncan.exceptions.TimeoutException,
    ValueError,
)


class DiagnosticClient(Client):
    """udsoncan's Client whose errors start with the service that was asked for.

    udsoncan names the service of the response it got (an ECU answering a ReadDataByIdentifier with
    a ClearDiagnosticInformation response reads "ClearDiagnosticInformation service ... unexpected"),
    none for a response it cannot place or a timeout, and passes a DID codec's error on bare. The
    exception keeps its type and its ``response``, so callers catching udsoncan's classes still do.
    """

    _asked: str | None = None
    ecu_address: int | None = None  # kept on its errors, so that a verdict can name the ECU

    def send_request(self, request: udsoncan.Request, timeout: int = -1) -> udsoncan.Response | None:
        self._asked = request.service.get_name() if request.service is not None else None
        return super().send_request(request, timeout)


def _naming_the_service(method: Any) -> Any:
    @functools.wraps(method)
    def named(self: DiagnosticClient, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _RESPONSE_ERRORS as exc:
            # a service that calls another (unlock_security_access) must not name it twice
            if self._asked is not None and not getattr(exc, "_service_named", False):
                exc.args = (f"{self._asked} request: {exc}", *exc.args[1:])
                exc._service_named = True  # type: ignore[union-attr]
                exc.ecu_address = self.ecu_address  # type: ignore[union-attr]
            raise

    return named


for _name, _method in vars(Client).items():
    if hasattr(_method, "_func_no_error_management"):  # udsoncan's mark on each service method
        setattr(DiagnosticClient, _name, _naming_the_service(_method))
del _name, _method


def answer_times(client: Client) -> list[float]:
    """Seconds from each request to the ECU's first answer, oldest first (a client of ``make_uds_client``)."""
    if not isinstance(client.conn, TimedConnection):
        raise TypeError(f"answer_times: the client's connection is a {type(client.conn).__name__}, not timed")
    return list(client.conn.first_answer_s)


def client_config() -> dict[str, Any]:
    """The udsoncan client configuration for the drive's ECUs."""
    config = dict(udsoncan.configs.default_client_config)
    config.update(
        {
            "data_identifiers": {
                **{did: PaddedAsciiCodec(length, did) for did, length in DID_LENGTHS.items()},
                DID_SNAPSHOT_DC_VOLTAGE: ScaledCodec(2, 0.1),
                DID_SNAPSHOT_SPEED: ScaledCodec(2, 1.0, signed=True),
                DID_SNAPSHOT_TEMPERATURE: ScaledCodec(1, 1.0, offset=-40.0),
                DID_OVERCURRENT_TRIP_TEST: ScaledCodec(2, 0.1),
                DID_BMS_SOC: ScaledCodec(4, 0.0001),
            },
            "security_algo": _security_algo,
            "p2_timeout": P2_SERVER_S + P2_CLIENT_MARGIN_S,
            "p2_star_timeout": P2_STAR_SERVER_S + P2_CLIENT_MARGIN_S,
            "request_timeout": P2_STAR_SERVER_S + 2 * P2_CLIENT_MARGIN_S,
            # The session response carries the server's P2 (50 ms); applied as is it would leave no
            # margin for the transport, so the client keeps its own timing.
            "use_server_timing": False,
            "extended_data_size": 1,
            "dtc_snapshot_did_size": 2,
        }
    )
    return config


def make_uds_client(
    bus: can.BusABC,
    notifier: can.Notifier,
    ecu_address: int,
    tester_address: int = TESTER_ADDRESS,
    config: dict[str, Any] | None = None,
) -> DiagnosticClient:
    """A udsoncan Client to the ECU at ``ecu_address``; use it as a context manager (opens the
    ISO-TP stack on enter, closes it on exit). ``answer_times(client)`` gives its response times."""
    address = isotp.Address(
        isotp.AddressingMode.NormalFixed_29bits, target_address=ecu_address, source_address=tester_address
    )
    stack = isotp.NotifierBasedCanStack(
        bus, notifier, address=address, params={"tx_padding": 0xAA, "stmin": 0, "blocksize": 0}
    )
    connection = TimedConnection(stack, name=f"uds-0x{ecu_address:02X}")
    client = DiagnosticClient(connection, config=config or client_config())
    client.ecu_address = ecu_address
    return client
