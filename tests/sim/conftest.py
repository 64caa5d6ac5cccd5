"""Fixtures for the simulated bench's own tests: a bench per test, drivers over real sockets, the DUT
powered up as a bench would do it, and the test as the vehicle controller (VCU) on CAN."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import can
import pytest
import pyvisa

from instruments.base import Instrument
from instruments.registry import driver_class
from sim.bench import SimulatedBench
from sim.service import start

INSTRUMENTS = [
    {"name": "supply", "driver": "itech.it6000c", "model": "IT6054C-800-225-P5", "serial": "SIM-PS-0001"},
    {"name": "cellsim", "driver": "chroma.87001", "model": "87001-24", "serial": "SIM-CS-0001"},
    {"name": "eload", "driver": "chroma.63200", "model": "63206A-1200-240", "serial": "SIM-EL-0001"},
    {"name": "dyno", "driver": "magtrol.dsp7000", "model": "DSP7000-AC250", "serial": "SIM-DY-0001"},
    {"name": "analyzer", "driver": "yokogawa.wt5000", "model": "WT5000-EXT-10mV/A", "serial": "SIM-PA-0001"},
    {"name": "tempsim", "driver": "iet.prs202", "model": "PRS-202-B-6-1-1-3", "serial": "SIM-TS-0001"},
    {"name": "isofault", "driver": "keysight.34980a", "model": "34980A/IFB-1", "serial": "SIM-IF-0001"},
]

PACK_V = 537.6  # the golden pack: 168 LiFePO4 cells at 3.20 V nominal
VCU_ADDRESS = 0x27
TSC1_TO_DRIVE_FROM_VCU = 0x0C000027  # priority 3, PGN 0 (TSC1), DA 0x00 (the drive), SA 0x27 (the VCU)
TSC1_PERIOD_S = 0.01  # J1939-71: 10 ms; the drive drops torque 100 ms after the last one (INV-16)
VCU_BMS_COMMAND = 0x18FF2327  # priority 6, PGN 0xFF23, SA 0x27
BMS_COMMAND_PERIOD_S = 0.1  # the BMS opens its contactors 500 ms after the last one (BMS-11)


def instruments(port: int = 0) -> list[dict[str, Any]]:
    return [dict(i, resource=f"TCPIP0::127.0.0.1::{port}::SOCKET") for i in INSTRUMENTS]


def wait_for(condition: Callable[[], Any], timeout_s: float = 5.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it is truthy; its value, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not met within {timeout_s} s (last value {value!r})")
        time.sleep(0.002)


def open_driver(resource_manager: pyvisa.ResourceManager, bench: SimulatedBench, name: str) -> Any:
    spec = next(i for i in INSTRUMENTS if i["name"] == name)
    return driver_class(spec["driver"]).open(
        resource_manager, bench.resources[name], name=name, model=spec["model"]
    )


def power_up(
    bench: SimulatedBench,
    cells: Any,
    supply: Any,
    vcu: Vcu,
    voltage_v: float = PACK_V,
    current_limit_a: float = 300.0,
) -> None:
    """Power the DUT as a bench does: every cell-simulator channel on at the profile's 3.30 V, the
    supply (the pack) on at ``voltage_v``, and the test as the VCU asking the BMS to close its
    contactors. Returns once they are closed and the DC link is charged.

    The BMS trips on cell under-voltage 0.5 s after the bench starts with its cells off; on a loaded
    machine the cells may come on later than that, so once the BMS reads them the VCU resets what it
    latched, as a vehicle controller does at key-on."""
    cells.output_on()
    supply.set_current_limit(current_limit_a)
    supply.set_voltage(voltage_v)
    supply.output_on()
    wait_for(lambda: cells_read(bench), what="the BMS reading its cells")
    vcu.command_bms(close_contactors=True)
    vcu.reset_faults()

    def ready() -> bool:
        with bench.simulation.now() as plant:
            closed = plant.bms.state.contactor_state.name == "CLOSED"
            return closed and abs(plant.dc_link_voltage_v - voltage_v) < 0.5

    wait_for(ready, what=f"contactors closed and the DC link at {voltage_v} V")


def cells_read(bench: SimulatedBench) -> bool:
    """The BMS has measured every cell above its under-voltage level (and clear of its hysteresis)."""
    with bench.simulation.now() as plant:
        bms = plant.bms.params
        return plant.bms.state.min_cell_v > bms["cell_undervoltage_trip"] + 2 * bms["cell_voltage_hysteresis"]


def tsc1(torque_nm: float, reference_nm: float = 1000.0) -> can.Message:
    """TSC1 from the VCU: torque control, requested torque in data[3] at 1 %/bit, offset -125 %."""
    percent = round(torque_nm / reference_nm * 100.0) + 125
    return can.Message(
        arbitration_id=TSC1_TO_DRIVE_FROM_VCU, data=[2, 0xFF, 0xFF, percent, 0xFF, 0xFF, 0xFF, 0xFF]
    )


def bms_command(close_contactors: bool, fault_reset: bool = False) -> can.Message:
    """VCU_BmsCommand (dbc/drive.dbc): byte 0 bit 0 close, bit 1 fault reset; counter in byte 7."""
    return can.Message(
        arbitration_id=VCU_BMS_COMMAND,
        data=[int(close_contactors) | int(fault_reset) << 1, 0, 0, 0, 0, 0, 0, 0],
    )


def _count(message: can.Message) -> None:
    """The 4-bit MessageCounter (bits 60-63) moves on with every frame sent."""
    message.data[7] = (message.data[7] + 0x10) & 0xF0


class Vcu:
    """The test as the vehicle controller on CAN: holds a torque request by repeating TSC1 every
    10 ms, and the BMS's contactor command by repeating VCU_BmsCommand (its heartbeat) every 100 ms."""

    def __init__(self, can_kwargs: dict[str, Any]) -> None:
        self.bus = can.Bus(**can_kwargs)
        self._tsc1: Any = None
        self._bms: Any = None
        self._close = False

    def request_torque(self, torque_nm: float) -> None:
        message = tsc1(torque_nm)
        if self._tsc1 is None:
            self._tsc1 = self.bus.send_periodic(message, TSC1_PERIOD_S)
        else:
            self._tsc1.modify_data(message)

    def stop_torque(self) -> None:
        """Fall silent on TSC1: the drive drops its torque 100 ms after the last one (INV-16)."""
        if self._tsc1 is not None:
            self._tsc1.stop()
            self._tsc1 = None

    def command_bms(self, close_contactors: bool) -> None:
        self._close = close_contactors
        message = bms_command(close_contactors)
        if self._bms is None:
            self._bms = self.bus.send_periodic(message, BMS_COMMAND_PERIOD_S, modifier_callback=_count)
        else:
            self._bms.modify_data(message)

    def reset_faults(self) -> None:
        """One VCU_BmsCommand with the fault-reset bit (the BMS and the drive both act on it)."""
        self.bus.send(bms_command(self._close, fault_reset=True))

    def close(self) -> None:
        for task in (self._tsc1, self._bms):
            if task is not None:
                task.stop()
        self.bus.shutdown()


@pytest.fixture
def bench(tmp_path: Any) -> Iterator[SimulatedBench]:
    sim = start(instruments(), {"interface": "virtual", "channel": "ignored"}, {"seed": 7})
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def resource_manager() -> Iterator[pyvisa.ResourceManager]:
    # the "@py" manager is one per process; closing it would close other tests' resources too
    yield pyvisa.ResourceManager("@py")


@pytest.fixture
def connect(
    bench: SimulatedBench, resource_manager: pyvisa.ResourceManager
) -> Iterator[Callable[[str], Any]]:
    """Open the named instrument's driver against the bench; closed after the test."""
    opened: list[Instrument] = []

    def open_named(name: str) -> Any:
        driver = open_driver(resource_manager, bench, name)
        opened.append(driver)
        return driver

    yield open_named
    for driver in opened:
        driver.close()


@pytest.fixture
def vcu(bench: SimulatedBench) -> Iterator[Vcu]:
    controller = Vcu(bench.can_kwargs)
    yield controller
    controller.close()


@pytest.fixture
def powered(bench: SimulatedBench, connect: Callable[[str], Any], vcu: Vcu) -> SimulatedBench:
    """The bench with the DUT powered: cells at 3.30 V, the pack at 537.6 V, contactors closed."""
    power_up(bench, connect("cellsim"), connect("supply"), vcu)
    return bench


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
