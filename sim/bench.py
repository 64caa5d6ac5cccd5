"""The simulated bench as one object: plant, emulators on their servers, CAN, command log."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import can

from sim.can_node import DriveCanNode
from sim.command_log import CommandLog
from sim.ecu.diagnostics import DiagnosticsEcu, EcuDefects
from sim.ecu.dtc_memory import Lamp, MemoryDefects
from sim.ecu.identity import EcuIdentity
from sim.ecu.uds_server import DID_OVERCURRENT_TRIP_TEST, UdsDefects, VolatileCalibration
from sim.emulators import emulator_class
from sim.emulators.base import Emulator
from sim.injection import FaultInjector
from sim.plant.drive_plant import DrivePlant, FaultChange
from sim.profile import Profile
from sim.server import LOOPBACK, LineServer
from sim.simulation import Simulation
from sim.socketcand import SocketcandServer

log = logging.getLogger("sim.bench")

OVERCURRENT_TRIP_RESOLUTION_A = 0.1  # DID 0xFD10, A peak per bit (dbc/README.md)
# A test may lower the over-current trip, never raise it, nor below the magnetising current at
# which the drive idles (120 A peak [E]): it must still be able to run
OVERCURRENT_TRIP_TEST_MIN_A = 150.0
DID_BMS_SOC = 0xD010
_SOCKET_RESOURCE = re.compile(r"^TCPIP\d*::(?P<host>[^:]+)::(?P<port>\d+)::SOCKET$", re.IGNORECASE)


class Ecu(Protocol):
    def stop(self) -> None: ...


def resource_port(name: str, resource: str) -> int:
    """The port of a loopback ``TCPIP0::127.0.0.1::<port>::SOCKET`` resource."""
    match = _SOCKET_RESOURCE.match(resource)
    if match is None:
        raise ValueError(
            f"instruments.{name}.resource {resource!r}: "
            "the simulated bench serves TCPIP0::127.0.0.1::<port>::SOCKET"
        )
    if match["host"] not in (LOOPBACK, "localhost"):
        raise ValueError(
            f"instruments.{name}.resource {resource!r}: the simulated bench listens on {LOOPBACK} only"
        )
    return int(match["port"])


class SimulatedBench:
    """What ``sim.service.start`` returns.

    ``resources`` (name -> VISA resource actually served), ``can_kwargs`` (for ``can.Bus``),
    ``unit_serial`` (the serial number of the unit it holds), ``command_log()``, ``stop()``;
    ``plant``, ``simulation`` and ``emulators`` for tests; ECUs beyond the drive system's own join
    the same CAN channel through ``attach_ecu``.
    """

    def __init__(
        self,
        instruments: list[dict[str, Any]],
        can_config: dict[str, Any],
        profile: Profile,
        log_path: str | None,
        seed: int,
        serial: str = "EDS200-SIM-0001",
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.serial = serial
        self.can_channel = f"hil-sim-{uuid.uuid4().hex[:12]}"
        self.emulators: dict[str, Emulator] = {}
        self.servers: dict[str, LineServer] = {}
        self.socketcand: SocketcandServer | None = None
        self._ecus: list[Ecu] = []
        self._buses: list[can.BusABC] = []
        self._stopped = False
        self._stop_lock = threading.Lock()
        ports = {i["name"]: resource_port(i["name"], i["resource"]) for i in instruments}
        classes = {i["name"]: emulator_class(i["driver"]) for i in instruments}
        physics: dict[str, Any] = {}
        by_slot: dict[str, str] = {}
        models = {i["name"]: i.get("model") or classes[i["name"]].DEFAULT_MODEL for i in instruments}
        for name, cls in classes.items():
            physics[name] = cls.build_physics(models[name], profile)
            if cls.plant_slot is not None:
                if cls.plant_slot in by_slot:
                    raise ValueError(
                        f"instruments.{name}: the simulated bench has one {cls.kind}, "
                        f"already {by_slot[cls.plant_slot]!r}"
                    )
                by_slot[cls.plant_slot] = name
        self.plant = DrivePlant(profile, seed=seed, **{slot: physics[name] for slot, name in by_slot.items()})
        self.simulation = Simulation(self.plant)
        self._log = CommandLog(self.simulation.started, log_path)
        self.faults = FaultInjector(self.emulators, can_config.get("interface") == "socketcand")
        try:
            for item in instruments:
                name = item["name"]
                emulator = classes[name](
                    name=name,
                    model=models[name],
                    serial=item["serial"],
                    simulation=self.simulation,
                    log=self._log,
                    physics=physics[name],
                    profile=profile,
                    seed=seed,
                )
                self.emulators[name] = emulator
                self.servers[name] = LineServer(
                    name, self.faults.wrap(name, emulator.handle), emulator.terminator, ports[name]
                )
            self.attach_ecu(DriveCanNode)
            self.diagnostics = self._start_diagnostics()
            if can_config.get("interface") == "socketcand":
                self.socketcand = SocketcandServer(
                    self.can_channel, int(can_config.get("port", 0)), gate=self.faults.can_gate
                )
                self.faults.drop_can_links = self.socketcand.drop_links
        except BaseException:
            self.stop()
            raise
        self.resources = {
            name: f"TCPIP0::{LOOPBACK}::{server.port}::SOCKET" for name, server in self.servers.items()
        }
        if self.socketcand is not None:
            self.can_kwargs = {
                "interface": "socketcand",
                "host": LOOPBACK,
                "port": self.socketcand.port,
                "channel": str(can_config.get("channel", "can0")),
            }
        else:
            self.can_kwargs = {"interface": "virtual", "channel": self.can_channel}

    def _start_diagnostics(self) -> DiagnosticsEcu:
        """The drive system's diagnostics ECU, told of every protection the plant sets or clears."""
        profile, identity = self.profile, self.profile.identity
        diag = profile["diagnostics"]
        fmi = int(diag["fmi_override"])

        def flag(name: str) -> bool:
            return diag[name] >= 0.5

        defects = EcuDefects(
            fmi_override=fmi if fmi >= 0 else None,
            spn_contiguous=flag("spn_contiguous"),
            trips_amber=flag("trips_amber"),
            dm2_reports_active=flag("dm2_reports_active"),
            clear_unacknowledged=flag("clear_unacknowledged"),
            clear_ignored=flag("clear_ignored"),
            memory=MemoryDefects(
                occurrences_lost_on_pass=flag("occurrences_lost_on_pass"),
                snapshot_not_frozen=flag("snapshot_not_frozen"),
                never_confirmed=flag("never_confirmed"),
            ),
            uds=UdsDefects(
                count_ignores_mask=flag("count_ignores_mask"),
                clear_active_only=flag("clear_active_only"),
                vin_volatile=flag("vin_volatile"),
                any_security_key=flag("any_security_key"),
            ),
        )
        serial = identity["serial_number"] or self.serial
        ecu = DiagnosticsEcu(
            self.can_channel,
            EcuIdentity(identity["part_number"], serial, identity["vin"], identity["software_version"]),
            source_address=int(profile["can"]["drive_address"]),
            dm1_period_s=diag["dm1_period"],
            s3_timeout_s=diag["s3_timeout"],
            security_lockout_s=diag["security_lockout"],
            redetect_delay_s=diag["redetect_delay"],
            confirmation_delay_s=diag["confirmation_delay"],
            uds_response_delay_s=diag["uds_response_delay"],
            self_test_result=int(diag["self_test_result"]),
            # the routine reports what the BMS's insulation monitor measures
            insulation_resistance_kohm=lambda: self.plant.bms.state.insulation_ohm / 1000.0,
            live_data={DID_BMS_SOC: self._bms_soc},
            defects=defects,
            rng_seed=self.seed,
            calibrations={DID_OVERCURRENT_TRIP_TEST: self._overcurrent_trip_calibration()},
        )
        ecu.start()
        self._ecus.append(ecu)

        def report(change: FaultChange) -> None:
            lamp = Lamp.RED_STOP if change.lamp == "red" else Lamp.AMBER
            ecu.report_fault(change.spn, change.fmi, change.active, change.snapshot, lamp)

        self.plant.on_fault = report
        return ecu

    def _overcurrent_trip_calibration(self) -> VolatileCalibration:
        """The drive's SW over-current trip level as a UDS test calibration (INV-04)."""

        def read() -> int:
            with self.simulation.now() as plant:
                return round(plant.drive.overcurrent_trip_pk / OVERCURRENT_TRIP_RESOLUTION_A)

        def write(raw: int) -> bool:
            level = raw * OVERCURRENT_TRIP_RESOLUTION_A
            with self.simulation.now() as plant:
                if not OVERCURRENT_TRIP_TEST_MIN_A <= level <= plant.drive.production_overcurrent_trip_pk:
                    return False
                plant.drive.set_overcurrent_trip(level)
            return True

        def restore() -> None:
            with self.simulation.now() as plant:
                plant.drive.set_overcurrent_trip(None)

        return VolatileCalibration(2, read, write, restore)

    def _bms_soc(self) -> bytes:
        """DID 0xD010: the BMS's state of charge, 0.0001 %/bit, u32 [E] (dbc/README.md)."""
        return round(self.plant.bms.state.soc * 1e6).to_bytes(4, "big")

    @property
    def unit_serial(self) -> str:
        return self.serial

    def new_can_bus(self) -> can.BusABC:
        """A bus of its own on the simulation's CAN channel, shut down with the bench."""
        bus = can.Bus(interface="virtual", channel=self.can_channel)
        self._buses.append(bus)
        return bus

    def attach_ecu(self, start: Callable[[can.BusABC, Simulation], Ecu]) -> Ecu:
        """Start another simulated ECU on the channel: ``start(bus, simulation)`` returns something
        with ``stop()``, called (before its bus is shut down) when the bench stops."""
        ecu = start(self.new_can_bus(), self.simulation)
        self._ecus.append(ecu)
        return ecu

    def command_log(self) -> list[dict[str, Any]]:
        return self._log.records()

    def clients(self) -> int:
        """Connections open now to its instruments and its socketcand server."""
        links = self.socketcand.clients() if self.socketcand is not None else 0
        return links + sum(server.clients() for server in self.servers.values())

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        if self.socketcand is not None:
            self.socketcand.stop()
        for server in self.servers.values():
            server.stop()
        for ecu in self._ecus:
            ecu.stop()
        for bus in self._buses:
            bus.shutdown()
        self._log.close()

    def __enter__(self) -> SimulatedBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
