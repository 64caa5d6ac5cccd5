"""The simulated diagnostics ECU: fault memory + J1939 DM1/DM2/DM3/DM11 + UDS over ISO-TP, on CAN.

It opens its own python-can buses on ``channel`` (one for J1939, one each for physical and
functional ISO-TP), as a separate ECU on the wire would. UDS uses 29-bit normal fixed
addressing [R]: requests 0x18DA<ecu><tester> (physical) and 0x18DB33<tester> (functional),
responses 0x18DA<tester><ecu>.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import can
import isotp

from hil.realtime import raise_thread_priority
from sim.ecu.dtc_memory import DtcMemory, Lamp, MemoryDefects
from sim.ecu.identity import EcuIdentity
from sim.ecu.j1939_diag import J1939DiagServer
from sim.ecu.uds_server import NRC_RESPONSE_PENDING, UdsDefects, UdsServer, VolatileCalibration

FUNCTIONAL_TARGET = 0x33  # ISO 15765-4 functional address on 29-bit ids [R]
_POLL_S = 0.005  # how often the threads look at the clock: fine enough for 50 ms BAM spacing
_PENDING_REPEAT_S = 2.0  # re-send 0x78 well inside P2* = 5 s [E]
_ISOTP_PARAMS = {"tx_padding": 0xAA, "stmin": 0, "blocksize": 0}


@dataclass(frozen=True)
class EcuDefects:
    """Firmware defects a good test suite must catch (a defect describes the unit, not the test).

    fmi_override: every fault is stored with this FMI instead of the right one.
    spn_contiguous: DM1/DM2 encode the SPN as one contiguous 19-bit field (wrong above 65535).
    trips_amber: a fault that should light the red stop lamp lights the amber warning lamp.
    dm2_reports_active: DM2 answers with the active DTCs instead of the previously active ones.
    clear_unacknowledged: DM11/DM3 clear but send no Acknowledgment.
    clear_ignored: DM11/DM3 are acknowledged but clear nothing.
    The fault memory's (``MemoryDefects``) and the UDS server's (``UdsDefects``) own defects ride along.
    """

    fmi_override: int | None = None
    spn_contiguous: bool = False
    trips_amber: bool = False
    dm2_reports_active: bool = False
    clear_unacknowledged: bool = False
    clear_ignored: bool = False
    memory: MemoryDefects = field(default_factory=MemoryDefects)
    uds: UdsDefects = field(default_factory=UdsDefects)


class DiagnosticsEcu:
    def __init__(
        self,
        channel: str,
        identity: EcuIdentity,
        *,
        source_address: int = 0x00,
        tester_address: int = 0xF1,
        interface: str = "virtual",
        clock: Callable[[], float] = time.monotonic,
        dm1_period_s: float = 1.0,
        bam_packet_spacing_s: float = 0.05,
        s3_timeout_s: float = 5.0,
        security_lockout_s: float = 10.0,
        insulation_test_s: float = 0.3,
        redetect_delay_s: float = 0.2,
        confirmation_delay_s: float = 0.0,
        uds_response_delay_s: float = 0.0,
        self_test_result: int = 0x00,
        insulation_resistance_kohm: Callable[[], float] = lambda: 5000.0,
        defects: EcuDefects | None = None,
        rng_seed: int | None = None,
        calibrations: Mapping[int, VolatileCalibration] | None = None,
        live_data: Mapping[int, Callable[[], bytes]] | None = None,
    ) -> None:
        self.channel = channel
        self.source_address = source_address
        self.tester_address = tester_address
        self._interface = interface
        self.defects = defects or EcuDefects()
        self.memory = DtcMemory(
            clock=clock,
            redetect_delay_s=redetect_delay_s,
            confirmation_delay_s=confirmation_delay_s,
            defects=self.defects.memory,
        )
        self._uds_response_delay_s = uds_response_delay_s
        self.uds = UdsServer(
            identity,
            self.memory,
            clock=clock,
            s3_timeout_s=s3_timeout_s,
            security_lockout_s=security_lockout_s,
            insulation_test_s=insulation_test_s,
            insulation_resistance_kohm=insulation_resistance_kohm,
            on_hard_reset=self.memory.new_operation_cycle,
            rng=random.Random(rng_seed),
            live_data=live_data,
            self_test_result=self_test_result,
            defects=self.defects.uds,
            calibrations=calibrations,
        )
        self._j1939_settings = {
            "clock": clock,
            "dm1_period_s": dm1_period_s,
            "bam_packet_spacing_s": bam_packet_spacing_s,
            "spn_contiguous": self.defects.spn_contiguous,
            "dm2_reports_active": self.defects.dm2_reports_active,
            "clear_acknowledged": not self.defects.clear_unacknowledged,
            "clear_executed": not self.defects.clear_ignored,
        }
        self._lock = threading.Lock()  # one thread at a time drives the J1939 and UDS servers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._buses: list[can.BusABC] = []
        self._stacks: list[isotp.CanStack] = []
        self.j1939: J1939DiagServer | None = None

    # -- the plant's API -----------------------------------------------------------------------
    def report_fault(
        self,
        spn: int,
        fmi: int,
        active: bool,
        snapshot: Mapping[str, float] | None = None,
        lamp: Lamp = Lamp.AMBER,
    ) -> None:
        """A protection tripped (active) or cleared. ``snapshot`` keys: dc_voltage_v, speed_rpm,
        temperature_c, captured when the DTC sets. ``lamp``: AMBER warning, RED_STOP trip."""
        if self.defects.fmi_override is not None:
            fmi = self.defects.fmi_override
        if self.defects.trips_amber and lamp is Lamp.RED_STOP:
            lamp = Lamp.AMBER
        self.memory.report(spn, fmi, active, snapshot=snapshot, lamp=lamp)

    def new_operation_cycle(self) -> None:
        self.memory.new_operation_cycle()

    # -- lifetime ------------------------------------------------------------------------------
    def _open_bus(self) -> can.BusABC:
        bus = can.Bus(interface=self._interface, channel=self.channel, receive_own_messages=False)
        self._buses.append(bus)
        return bus

    def start(self) -> None:
        if self._threads:
            raise RuntimeError(
                f"DiagnosticsEcu 0x{self.source_address:02X} on {self.channel!r}: already started"
            )
        self._stop.clear()
        j1939_bus = self._open_bus()

        def send(can_id: int, data: bytes) -> None:
            j1939_bus.send(can.Message(arbitration_id=can_id, data=data, is_extended_id=True))

        self.j1939 = J1939DiagServer(self.memory, send, self.source_address, **self._j1939_settings)
        physical = isotp.Address(
            isotp.AddressingMode.NormalFixed_29bits,
            target_address=self.tester_address,
            source_address=self.source_address,
        )
        functional = isotp.AsymmetricAddress(
            tx_addr=isotp.Address(
                isotp.AddressingMode.NormalFixed_29bits,
                target_address=self.tester_address,
                source_address=self.source_address,
                tx_only=True,
            ),
            rx_addr=isotp.Address(
                isotp.AddressingMode.NormalFixed_29bits,
                target_address=self.tester_address,
                source_address=FUNCTIONAL_TARGET,
                rx_only=True,
            ),
        )
        for address in (physical, functional):
            stack = isotp.CanStack(self._open_bus(), address=address, params=_ISOTP_PARAMS)
            stack.start()
            self._stacks.append(stack)
        self._threads = [
            threading.Thread(target=self._j1939_loop, args=(j1939_bus,), name="ecu-j1939", daemon=True),
            threading.Thread(target=self._uds_loop, name="ecu-uds", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for stack in self._stacks:
            stack.stop()
        for bus in self._buses:
            bus.shutdown()
        self._threads, self._stacks, self._buses = [], [], []

    def __enter__(self) -> DiagnosticsEcu:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- threads -------------------------------------------------------------------------------
    def _j1939_loop(self, bus: can.BusABC) -> None:
        assert self.j1939 is not None
        raise_thread_priority(realtime=False)  # the DM1 broadcast keeps its second on a busy machine
        while not self._stop.is_set():
            msg = bus.recv(timeout=_POLL_S)
            with self._lock:
                if msg is not None and msg.is_extended_id:
                    self.j1939.on_frame(msg.arbitration_id, bytes(msg.data))
                self.memory.tick()
                self.j1939.tick()

    def _uds_loop(self) -> None:
        raise_thread_priority(realtime=False)  # the server's P2 deadline, as the firmware's task keeps it
        while not self._stop.is_set():
            for stack in self._stacks:
                request = stack.recv(block=stack is self._stacks[0], timeout=_POLL_S)
                if request is not None:
                    self._serve(stack, bytes(request))
            with self._lock:
                self.uds.tick()

    def _serve(self, stack: isotp.CanStack, request: bytes) -> None:
        with self._lock:
            reply = self.uds.handle(request)
        if self._uds_response_delay_s > 0:  # a slow firmware: late, and without response-pending
            self._stop.wait(self._uds_response_delay_s)
        if reply.delay_s > 0:  # transport timing on the wall clock, whatever clock the server runs on
            pending = bytes([0x7F, request[0], NRC_RESPONSE_PENDING])
            done_at = time.monotonic() + reply.delay_s
            while not self._stop.is_set() and time.monotonic() < done_at:
                stack.send(pending)
                self._stop.wait(min(_PENDING_REPEAT_S, done_at - time.monotonic()))
        if reply.response is not None and not self._stop.is_set():
            stack.send(reply.response)
