"""The wiring steps against small fakes of the guarded instruments (only the operations they use)."""

from __future__ import annotations

import numpy as np
import pytest

from hil.models.emulation import PackEmulation, RoadLoadEmulation
from hil.models.pack import PackModel
from hil.models.vehicle import VehicleModel
from instruments.dyno import DynoReading


class FakeSupply:
    def __init__(self, current_a: float) -> None:
        self.current_a = current_a
        self.voltages: list[float] = []

    def measure_current(self) -> float:
        return self.current_a

    def set_voltage(self, voltage_v: float) -> None:
        self.voltages.append(voltage_v)


class FakeCellsim:
    channels = 24

    def __init__(self) -> None:
        self.draw_a = [0.0] * 24
        self.reads = 0
        self.written: list[list[float]] = []

    def measure_currents(self) -> list[float]:
        self.reads += 1
        return list(self.draw_a)

    def set_cell_voltages(self, voltages_v: list[float]) -> None:
        assert isinstance(voltages_v, list) and len(voltages_v) == 24
        self.written.append(voltages_v)


class FakeDyno:
    def __init__(self, speed_rpm: float, torque_nm: float, alarm: bool = False) -> None:
        self.reading = DynoReading(speed_rpm, torque_nm, "CW", alarm)
        self.speeds: list[float] = []

    def read(self) -> DynoReading:
        return self.reading

    def set_speed(self, speed_rpm: float) -> None:
        self.speeds.append(speed_rpm)


def test_pack_emulation_feeds_the_measured_current_and_writes_pack_and_cells():
    pack, supply, cells = PackModel(seed=1, soc=0.5), FakeSupply(120.0), FakeCellsim()
    emulation = PackEmulation(pack, supply, cells)
    at_rest = pack.terminal_voltage_v
    emulation.step(0.0, 0.01)
    assert pack.current_a == 120.0 and emulation.measured_current_a == 120.0
    assert supply.voltages == [pack.terminal_voltage_v]
    assert at_rest - supply.voltages[0] > 120.0 * 168 * 0.35e-3, "the pack sags under the load"
    assert cells.written == [pack.cell_voltages_v[:24].tolist()]


def test_an_emulated_charger_charges_the_pack_besides_the_supply_current():
    pack, supply, cells = PackModel(seed=1, soc=0.5), FakeSupply(2.0), FakeCellsim()
    charger = [30.0]
    emulation = PackEmulation(pack, supply, cells, charger_a=lambda: charger[0])
    emulation.step(0.0, 1.0)
    assert pack.current_a == -28.0 and emulation.measured_current_a == 2.0
    assert pack.reference_ah == pytest.approx(-28.0 / 3600.0)
    charger[0] = 0.0
    emulation.step(1.0, 1.0)
    assert pack.current_a == 2.0


def test_pack_emulation_maps_channels_to_the_chosen_cells():
    pack, supply, cells = PackModel(seed=1, soc=0.5), FakeSupply(50.0), FakeCellsim()
    sensed = list(range(100, 124))
    PackEmulation(pack, supply, cells, sensed_cells=sensed).step(0.0, 0.01)
    assert cells.written[-1] == pack.cell_voltages_v[sensed].tolist()
    with pytest.raises(ValueError, match="23 sensed cells for 24"):
        PackEmulation(pack, supply, cells, sensed_cells=range(23))
    with pytest.raises(ValueError, match="distinct"):
        PackEmulation(pack, supply, cells, sensed_cells=[0] * 24)
    with pytest.raises(ValueError, match="distinct"):
        PackEmulation(pack, supply, cells, sensed_cells=range(150, 174))


def test_what_the_bms_draws_is_read_every_few_steps_and_drains_the_sensed_cells():
    pack, supply, cells = PackModel(seed=1, soc=0.6), FakeSupply(0.0), FakeCellsim()
    cells.draw_a[5] = 0.2  # channel 6 bleeds 200 mA
    emulation = PackEmulation(pack, supply, cells, sensed_cells=range(24, 48), draw_every=10)
    start = pack.soc.copy()
    for _ in range(100):
        emulation.step(0.0, 1.0)
    assert cells.reads == 10
    assert emulation.cell_draw_a[29] == 0.2 and np.count_nonzero(emulation.cell_draw_a) == 1
    drained = start - pack.soc
    assert drained[29] == pytest.approx(0.2 * 100 / 3600 / pack.capacity_ah[29])
    assert np.count_nonzero(drained) == 1


def test_road_load_emulation_commands_the_dyno_to_the_bus_speed():
    bus = VehicleModel(speed_kmh=30.0)
    dyno = FakeDyno(speed_rpm=bus.shaft_speed_rpm, torque_nm=200.0)
    emulation = RoadLoadEmulation(bus, dyno)
    before = bus.speed_mps
    emulation.step(0.0, 0.01)
    assert bus.shaft_torque_nm == 200.0 and emulation.measured_torque_nm == 200.0
    assert dyno.speeds == [pytest.approx(bus.shaft_speed_rpm)]
    # 200 N·m on the shaft is more than the road load at 30 km/h: the bus speeds up
    assert bus.speed_mps > before


def test_a_dyno_alarm_stops_the_step():
    emulation = RoadLoadEmulation(VehicleModel(), FakeDyno(0.0, 0.0, alarm=True))
    with pytest.raises(RuntimeError, match="dyno alarm"):
        emulation.step(0.0, 0.01)
