"""The simple plant: supply → DC link capacitor ← e-load and inverter; motor and dyno on one rigid
shaft. Euler sub-steps ≤ ``simulation.max_step_s``; the DC link is stiff (supply and load
conductances of tens of siemens on millifarads), so it takes a linearised implicit step."""

from __future__ import annotations

import math

import numpy as np

from sim.plant.base import TRAJECTORY_COLUMNS, Plant
from sim.plant.cells import CellBank
from sim.plant.drive import DriveParameters, SimpleDrive
from sim.plant.dyno import DynoModel
from sim.plant.eload import LoadModel
from sim.plant.supply import SupplyModel
from sim.plant.trajectory import Trajectory
from sim.profile import Profile


def drive_parameters(profile: Profile) -> DriveParameters:
    d = profile["drive"]
    return DriveParameters(
        pole_pairs=int(d["pole_pairs"]),
        torque_time_constant_s=float(d["torque_time_constant_s"]),
        efficiency=float(d["efficiency"]),
        max_torque_nm=float(d["max_torque_nm"]),
        max_power_w=float(d["max_power_w"]),
        max_speed_rpm=float(d["max_speed_rpm"]),
        undervoltage_v=float(d["undervoltage_v"]),
        torque_constant_nm_per_a=float(d["torque_constant_nm_per_a"]),
        magnetising_current_a=float(d["magnetising_current_a"]),
        rated_torque_nm=float(d["rated_torque_nm"]),
        rated_slip_hz=float(d["rated_slip_hz"]),
        base_frequency_hz=float(d["base_frequency_hz"]),
    )


class SimplePlant(Plant):
    def __init__(
        self,
        profile: Profile,
        *,
        supply: SupplyModel | None = None,
        eload: LoadModel | None = None,
        dyno: DynoModel | None = None,
        cells: CellBank | None = None,
    ) -> None:
        self.supply, self.eload, self.dyno, self.cells = supply, eload, dyno, cells
        self.drive = SimpleDrive(drive_parameters(profile))
        self.max_step_s = float(profile["simulation"]["max_step_s"])
        self.capacitance_f = float(profile["dc_link"]["capacitance_f"])
        self.bleed_resistance_ohm = float(profile["dc_link"]["bleed_resistance_ohm"])
        self.inertia_kg_m2 = float(profile["shaft"]["inertia_kg_m2"])
        self.friction_nm_per_rad_s = float(profile["shaft"]["friction_nm_per_rad_s"])
        self.time_s = 0.0
        self.speed_rad_s = 0.0
        self.voltage_v = 0.0
        self._trajectory = Trajectory(TRAJECTORY_COLUMNS, int(profile["simulation"]["trajectory_rows"]))
        self._record()

    # --- inputs -----------------------------------------------------------------------------------
    def request_torque(self, torque_nm: float, source_address: int) -> None:
        self.drive.torque_request_nm = torque_nm
        self.drive.controlling_address = source_address

    # --- stepping ---------------------------------------------------------------------------------
    def advance(self, time_s: float) -> None:
        span = time_s - self.time_s
        if span <= 0.0:
            return
        steps = math.ceil(span / self.max_step_s - 1e-9)
        dt = span / steps
        for _ in range(steps):
            self._step(dt)
            self.time_s += dt
            self._record()
        self.time_s = time_s

    def _step(self, dt: float) -> None:
        speed = self.speed_rad_s
        motor_nm = self.drive.update(dt, speed, self.voltage_v)
        load_nm = self.dyno.update(dt, speed) if self.dyno is not None else 0.0
        drag_nm = self.friction_nm_per_rad_s * speed
        self.speed_rad_s = speed + dt * (motor_nm - load_nm - drag_nm) / self.inertia_kg_m2
        self._step_link(dt)
        self._check_protections()

    def _link_load_a(self, voltage_v: float) -> float:
        load = self.eload.current(voltage_v) if self.eload is not None else 0.0
        return load + self.drive.dc_current_a(voltage_v) + voltage_v / self.bleed_resistance_ohm

    def _step_link(self, dt: float) -> None:
        v, c = self.voltage_v, self.capacitance_f
        supply_a, limited = 0.0, False
        supply = self.supply
        if supply is not None and supply.output_on:
            supply.ramp(dt)
            target = supply.programmed_v
            low, high = supply.current_limits(v)
            needed = self._link_load_a(target) + c * (target - v) / dt
            supply_a = min(max(needed, low), high)
            limited = supply_a != needed
            if not limited:
                v_new = target
        if supply is None or not supply.output_on or limited:
            v_new = self._implicit_link_step(v, supply_a, dt)
        self.voltage_v = v_new
        if supply is not None:
            supply.voltage_v, supply.current_a, supply.constant_current = v_new, supply_a, limited
        if self.eload is not None:
            self.eload.voltage_v = v_new
            self.eload.current_a = self.eload.current(v_new)

    def _implicit_link_step(self, v: float, supply_a: float, dt: float) -> float:
        """Backward Euler for C·dV/dt = I_supply − I_load(V): one linearised step, and bisection
        when that step overshoots the equilibrium (a load's knee or limit inside the step)."""
        c = self.capacitance_f

        def residual(x: float) -> float:
            return x - v - dt * (supply_a - self._link_load_a(x)) / c

        load = self._link_load_a(v)
        delta = 1e-3 * max(1.0, v)
        conductance = max((self._link_load_a(v + delta) - load) / delta, 0.0)
        guess = max(v + dt * (supply_a - load) / (c + dt * conductance), 0.0)
        start, end = residual(v), residual(guess)
        if start * end >= 0.0:
            return guess
        low, high = (v, guess) if start < 0.0 else (guess, v)
        for _ in range(40):
            middle = 0.5 * (low + high)
            if residual(middle) < 0.0:
                low = middle
            else:
                high = middle
        return 0.5 * (low + high)

    def _check_protections(self) -> None:
        for model in (self.supply, self.eload, self.cells):
            if model is not None:
                model.check()
        if self.dyno is not None:
            self.dyno.check(self.speed_rpm)

    def _record(self) -> None:
        voltage, current, lag = self.drive.phase_quantities(self.voltage_v)
        self._trajectory.append(
            (
                self.time_s,
                self.drive.electrical_angle_rad,
                voltage,
                current,
                lag,
                self.voltage_v,
                self.inverter_dc_current_a,
            )
        )

    # --- accessors --------------------------------------------------------------------------------
    @property
    def torque_request_nm(self) -> float:
        return self.drive.torque_request_nm

    @property
    def controlling_address(self) -> int:
        return self.drive.controlling_address

    @property
    def speed_rpm(self) -> float:
        return self.speed_rad_s * 30.0 / math.pi

    @property
    def motor_torque_nm(self) -> float:
        return self.drive.torque_nm

    @property
    def dc_link_voltage_v(self) -> float:
        return self.voltage_v

    @property
    def inverter_dc_current_a(self) -> float:
        return self.drive.dc_current_a(self.voltage_v)

    @property
    def electrical_frequency_hz(self) -> float:
        return self.drive.electrical_frequency_hz

    def phase_quantities(self) -> tuple[float, float, float]:
        return self.drive.phase_quantities(self.voltage_v)

    def trajectory(self, start_s: float, end_s: float) -> dict[str, np.ndarray]:
        return self._trajectory.window(start_s, end_s)
