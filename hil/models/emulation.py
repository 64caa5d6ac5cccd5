"""Wiring the models to the bench's instruments, as steps of a ``PlantLoop``.

The instruments are the bench's guarded drivers, duck-typed; only these operations are used:
supply ``measure_current()`` (+ = the supply sources, the pack discharges), ``set_voltage(v)``;
cell simulator ``channels``, ``set_cell_voltages(list)`` (one message for all channels),
``measure_currents()`` (what each channel sources: the BMS's draw and balancing bleed); dyno
``read()`` (speed, torque absorbed: + brakes + rotation), ``set_speed(rpm)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hil.models.cycle import DriveCycle
from hil.models.driver import DriverCommand, DriverModel
from hil.models.pack import PackModel
from hil.models.vehicle import VehicleModel


class PackEmulation:
    """The supply and the cell simulator act as the pack: each step reads the pack current from the
    supply, steps the pack model, and writes the pack voltage to the supply and the sensed cells'
    voltages to the cell simulator.

    ``sensed_cells`` are the pack's cells on the BMS's sense board, channel 1 first (default: the
    first ``cellsim.channels`` cells). What the cell simulator's channels source (the BMS's draw and
    balancing bleed) is read every ``draw_every`` steps and drawn from those cells.

    ``charger_a`` (asked each step, A, + = into the pack) is a charger at the pack's terminals that
    the bench does not have as an instrument: its current charges the pack model besides what the
    supply measures. The bench's only other source on the HV bus is the drive's regeneration, which
    the drive itself holds to the BMS's charge limit; a charger that ignores the limit (the fault a
    cell over-voltage trip is there for) exists only in the model. The BMS's current sensor does not
    see it.
    """

    name = "pack"

    def __init__(
        self,
        pack: PackModel,
        supply: Any,
        cellsim: Any,
        *,
        sensed_cells: Sequence[int] | None = None,
        draw_every: int = 10,
        charger_a: Callable[[], float] | None = None,
    ) -> None:
        channels = int(cellsim.channels)
        cells = list(range(channels)) if sensed_cells is None else [int(c) for c in sensed_cells]
        if len(cells) != channels:
            raise ValueError(
                f"pack emulation: {len(cells)} sensed cells for {channels} cell-simulator channels"
            )
        if len(set(cells)) != len(cells) or not all(0 <= c < pack.n for c in cells):
            raise ValueError(
                f"pack emulation: sensed cells {cells} must be distinct cells of 0..{pack.n - 1}"
            )
        if draw_every < 1:
            raise ValueError(f"pack emulation: draw_every={draw_every} must be >= 1")
        self.pack, self.supply, self.cellsim = pack, supply, cellsim
        # looked up once: a guarded lookup costs ~20 µs; the envelope check still runs at each call
        self._measure_current, self._set_voltage = supply.measure_current, supply.set_voltage
        self._measure_draw, self._set_cells = cellsim.measure_currents, cellsim.set_cell_voltages
        self.sensed_cells = np.array(cells)
        self.draw_every = draw_every
        self.charger_a = charger_a
        self._draw_a = np.zeros(pack.n)
        self._steps = 0
        self.measured_current_a = math.nan

    def step(self, t_s: float, dt_s: float) -> None:
        if self._steps % self.draw_every == 0:
            draw = np.zeros(self.pack.n)
            draw[self.sensed_cells] = self._measure_draw()
            self._draw_a = draw
        self._steps += 1
        self.measured_current_a = current = float(self._measure_current())
        if self.charger_a is not None:
            current -= self.charger_a()
        self.pack.step(current, dt_s, self._draw_a)
        self._set_voltage(self.pack.terminal_voltage_v)
        self._set_cells(self.pack.cell_voltages_v[self.sensed_cells].tolist())

    @property
    def cell_draw_a(self) -> np.ndarray:
        """What the BMS draws from each cell, as last read (zero for cells it does not sense)."""
        return self._draw_a


class RoadLoadEmulation:
    """The dyno on the output shaft presents the bus: each step reads the shaft torque the drive
    delivers, integrates the bus's motion, and commands the dyno's speed to the bus's shaft speed.

    The dyno runs in speed control: a torque-controlled dyno cannot present the bus's inertia
    without differentiating speed. Start the loop with the vehicle model at the speed the dyno turns.
    """

    name = "road_load"

    def __init__(self, vehicle: VehicleModel, dyno: Any) -> None:
        self.vehicle, self.dyno = vehicle, dyno
        self._read, self._set_speed = dyno.read, dyno.set_speed  # looked up once, as above
        self.measured_speed_rpm = math.nan
        self.measured_torque_nm = math.nan

    def step(self, t_s: float, dt_s: float) -> None:
        reading = self._read()
        if reading.alarm:
            raise RuntimeError(f"dyno alarm at {reading.speed_rpm:g} rpm, {reading.torque_nm:g} N·m")
        self.measured_speed_rpm, self.measured_torque_nm = reading.speed_rpm, reading.torque_nm
        self.vehicle.step(reading.torque_nm, dt_s)
        self._set_speed(self.vehicle.shaft_speed_rpm)


class CycleTracking:
    """How well the target speed was followed: RMS and largest error, share of samples in the band."""

    def __init__(self, band_kmh: float) -> None:
        self.band_kmh = band_kmh
        self.samples = 0
        self._sum_sq = 0.0
        self._inside = 0
        self.max_abs_error_kmh = 0.0

    def add(self, target_kmh: float, speed_kmh: float) -> None:
        error = abs(speed_kmh - target_kmh)
        self.samples += 1
        self._sum_sq += error * error
        self._inside += error <= self.band_kmh
        self.max_abs_error_kmh = max(self.max_abs_error_kmh, error)

    @property
    def rms_error_kmh(self) -> float:
        return math.sqrt(self._sum_sq / self.samples) if self.samples else math.nan

    @property
    def within_band(self) -> float:
        return self._inside / self.samples if self.samples else math.nan


class CycleFollower:
    """Drives the emulated bus along a drive cycle: each step takes the cycle's target speed at the
    time since its first step, asks the driver model, sets the vehicle model's service brake and
    sends the motor torque request (``send_torque(nm)``, bound to the VCU's TSC1 request).

    ``gear_ratio`` is the transmission's present ratio, motor over output speed (a number, or a
    function asked each step). ``band_kmh`` is the tracking band [R: ±2 km/h, the usual chassis-
    dynamometer speed tolerance]. Put it after the road-load step in the loop.
    """

    name = "cycle"

    def __init__(
        self,
        cycle: DriveCycle,
        driver: DriverModel,
        vehicle: VehicleModel,
        send_torque: Callable[[float], None],
        *,
        gear_ratio: float | Callable[[], float],
        band_kmh: float = 2.0,
    ) -> None:
        self.cycle, self.driver, self.vehicle = cycle, driver, vehicle
        self.send_torque = send_torque
        self._gear_ratio = gear_ratio
        self.tracking = CycleTracking(band_kmh)
        self._start_s: float | None = None
        self.cycle_time_s = 0.0
        self.target_kmh = 0.0
        self.command = DriverCommand(0.0, 0.0, 0.0)

    @property
    def finished(self) -> bool:
        return self.cycle_time_s > self.cycle.duration_s

    @property
    def throttle(self) -> float:
        """The positive torque request over the motor's peak, 0..1 (an accelerator-pedal value)."""
        peak = self.driver.parameters.motor_peak_torque_nm
        return min(max(self.command.motor_torque_nm / peak, 0.0), 1.0)

    def step(self, t_s: float, dt_s: float) -> None:
        if self._start_s is None:
            self._start_s = t_s
        self.cycle_time_s = t = t_s - self._start_s
        ratio = self._gear_ratio() if callable(self._gear_ratio) else self._gear_ratio
        self.target_kmh = self.cycle.speed_kmh_at(t)
        vehicle = self.vehicle
        if not self.finished:
            self.tracking.add(self.target_kmh, vehicle.speed_kmh)
        self.command = command = self.driver.update(
            self.target_kmh / 3.6,
            self.cycle.acceleration_mps2_at(t),
            vehicle.speed_mps,
            vehicle.road_load_n,
            float(ratio),
            dt_s,
        )
        vehicle.brake_force_n = command.brake_force_n
        self.send_torque(command.motor_torque_nm)
