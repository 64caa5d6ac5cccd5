"""The simulated drive system on the bench: the supply (as the pack's HV source) with the e-load on
the pack side, the BMS's contactors and pre-charge into the inverter's DC link, the inverter and
induction motor, the transmission, and the dyno on the transmission's output shaft; the BMS reads
its cells from the cell-simulator channels and bleeds them while it balances.

Time runs on a fixed grid of ``simulation.max_step``: the state at each grid point depends only on
the profile, the seed and the inputs applied before it, never on when somebody asked, so two runs
with the same inputs at the same simulated times give the same captures and CAN traffic.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.bms import FAULTS as BMS_FAULTS
from sim.bms import BmsFirmware, BmsInputs, HvPath
from sim.bms.contactors import ContactorState
from sim.drive import FAULTS as DRIVE_FAULTS
from sim.drive import DriveInputs, InverterMotor
from sim.drive.speed_control import SpeedController
from sim.drive.waveforms import DriveTrajectory
from sim.plant.base import Plant
from sim.plant.cells import CellBank
from sim.plant.dyno import DynoModel
from sim.plant.eload import LoadModel
from sim.plant.insulation import FaultBox
from sim.plant.supply import SupplyModel
from sim.plant.thermistors import DecadeResistor, ntc_temperature_c
from sim.plant.trajectory import Trajectory
from sim.profile import Profile
from sim.transmission import FAULTS as TX_FAULTS
from sim.transmission import Transmission, TransmissionInputs

DRIVE_FIELDS = (
    "electrical_angle_rad",
    "i_phase_rms_a",
    "i_phase_rms_pre_edge_a",
    "current_angle_rad",
    "v_phase_rms_v",
    "voltage_angle_rad",
    "dc_voltage_v",
    "pwm_enabled",
    "pwm_edge_t_s",
)
# the drive's state, then the current through the contactors into the inverter's DC input
TRAJECTORY_FIELDS = (*DRIVE_FIELDS, "i_dc_input_a")
# a pre-charged link is within 5 % of the pack when the main contactor closes (BMS-07); further off,
# the tie is a charge-sharing event, not a small top-up [E]
TIE_SHARING_FRACTION = 0.1
DISCHARGED_V = 60.0  # class A boundary: below it the drive stops its active discharge [S: GB 18384]


@dataclass(frozen=True)
class FaultChange:
    """A protection of one subsystem set or cleared, with what the diagnostics ECU needs."""

    t_s: float
    subsystem: str
    name: str
    spn: int
    fmi: int
    lamp: str  # "amber" | "red"
    active: bool
    snapshot: dict[str, float]


@dataclass
class VcuCommand:
    """The VCU's wishes as last heard on CAN; ``heard_s`` None until the first frame.
    ``speed_rpm``: the motor speed TSC1 asks for in speed control, None in torque control."""

    torque_nm: float = 0.0
    speed_rpm: float | None = None
    torque_heard_s: float | None = None
    controlling_address: int = 0xFF
    close_contactors: bool = False
    bms_heard_s: float | None = None
    fault_reset: bool = False


class DrivePlant(Plant):
    def __init__(
        self,
        profile: Profile,
        *,
        supply: SupplyModel | None = None,
        eload: LoadModel | None = None,
        dyno: DynoModel | None = None,
        cells: CellBank | None = None,
        thermistor: DecadeResistor | None = None,
        fault_box: FaultBox | None = None,
        seed: int = 0,
    ) -> None:
        self.profile = profile
        self.supply, self.eload, self.dyno, self.cells = supply, eload, dyno, cells
        self.thermistor, self.fault_box = thermistor, fault_box
        self.dt_s = profile["simulation"]["max_step"]
        self.steps = 0
        self.time_s = 0.0
        bench, shaft = profile["bench"], profile["shaft"]
        self.coolant_c = bench["coolant_temperature"]
        self.cell_temperature_c = bench["cell_temperature"]
        self.harness_insulation_ohm = bench["insulation_resistance"]
        self.ignition = bench["ignition"] >= 0.5
        self.pack_capacitance_f = bench["supply_output_capacitance"]
        self.motor_inertia = shaft["motor_inertia"]
        self.output_inertia = shaft["output_inertia"]
        self.friction = shaft["friction"]
        self.rest_speed_rad_s = shaft["rest_speed"]
        self.speed_gain = profile["can"]["speed_controller_gain"]
        self.sync_regen_a = profile["can"]["sync_regen_current"]

        self.drive = InverterMotor(profile["motor"], profile["inverter"], profile["protection"])
        self.speed_control = SpeedController(profile["inverter"])
        self._demand_nm = 0.0  # the torque the VCU's command asks of the drive, before the gearbox's say
        # the inverter model carries the DC link's bleed resistor; the HV path must not count it twice
        self.hv = HvPath({**profile["hv_path"], "link_bleed_resistance": 1e12})
        self.tx = Transmission(profile["transmission"])
        # index = gear; a ratio of exactly 1 is the direct drive, whose torque passes no mesh
        self.gear_efficiency = tuple(
            shaft["direct_drive_efficiency"] if ratio == 1.0 else shaft["transmission_efficiency"]
            for ratio in self.tx.ratios
        )
        channels = cells.rating.channels if cells is not None else 24
        bms = profile["bms"]
        self.bms = BmsFirmware(bms, n_cells=channels, rng=np.random.default_rng(seed))
        self._ntc = (bms["ntc_r25"], bms["ntc_beta"])
        self._bms_inputs = BmsInputs(
            t_s=0.0,
            cell_voltages_v=[0.0] * channels,
            cell_temps_c=[self.cell_temperature_c] * round(bms["temperature_inputs"]),
            pack_current_a=0.0,
            pack_voltage_v=0.0,
            link_voltage_v=0.0,
            insulation_hv_pos_ohm=self.harness_insulation_ohm,
            insulation_hv_neg_ohm=self.harness_insulation_ohm,
        )
        self.vcu = VcuCommand()
        self.pack_voltage_v = 0.0
        self.output_speed_rad_s = 0.0
        self.motor_speed_rad_s = 0.0
        self.output_torque_nm = 0.0
        self._discharging = False
        self._subsystems = {"drive": (self.drive, DRIVE_FAULTS), "bms": (self.bms, BMS_FAULTS)}
        self._subsystems["transmission"] = (self.tx, TX_FAULTS)
        self._active: dict[str, frozenset[str]] = {name: frozenset() for name in self._subsystems}
        self.fault_changes: deque[FaultChange] = deque(maxlen=4096)
        self.on_fault: Callable[[FaultChange], None] | None = None
        self.on_step: Callable[[DrivePlant], None] | None = None
        self._trajectory = Trajectory(TRAJECTORY_FIELDS, int(profile["simulation"]["trajectory_rows"]))
        self._record()

    # --- inputs from CAN ------------------------------------------------------------------------
    def request_torque(self, torque_nm: float, source_address: int) -> None:
        self.vcu.torque_nm = torque_nm
        self.vcu.speed_rpm = None
        self.vcu.torque_heard_s = self.time_s
        self.vcu.controlling_address = source_address

    def request_speed(self, speed_rpm: float, source_address: int) -> None:
        """TSC1 in speed control: the drive's speed loop takes over from the torque it produces now."""
        if self.vcu.speed_rpm is None:
            self.speed_control.start(self.drive.state.torque_reference_nm)
        self.vcu.speed_rpm = speed_rpm
        self.vcu.torque_heard_s = self.time_s
        self.vcu.controlling_address = source_address

    def command_bms(self, close_contactors: bool, fault_reset: bool) -> None:
        self.vcu.close_contactors = close_contactors
        self.vcu.bms_heard_s = self.time_s
        self.vcu.fault_reset = self.vcu.fault_reset or fault_reset

    # --- stepping -------------------------------------------------------------------------------
    def advance(self, time_s: float) -> None:
        target = math.floor(time_s / self.dt_s + 1e-9)
        while self.steps < target:
            self.steps += 1
            self.time_s = self.steps * self.dt_s
            self._step(self.dt_s)

    def _step(self, dt: float) -> None:
        t = self.time_s
        bms = self.bms.state
        fault_reset, self.vcu.fault_reset = self.vcu.fault_reset, False

        self._demand_nm = self._torque_demand(dt)
        throttle = min(max(self._demand_nm / self.profile["motor"]["peak_torque"], 0.0), 1.0)
        tx = self.tx.step(
            dt, TransmissionInputs(throttle, self.output_speed_rad_s, self.motor_speed_rad_s, brake=False)
        )
        sync_regen_a = 0.0
        if tx.speed_control_request:
            request = self.speed_gain * (tx.motor_speed_target_rad_s - self.motor_speed_rad_s)
            # an upshift's synchronisation brakes the rotor for a few tenths of a second: a pulse,
            # not the sustained charge the BMS's published limit is for
            sync_regen_a = self.sync_regen_a
        else:
            request = self._demand_nm * tx.torque_scale
        heard = self.vcu.torque_heard_s
        contacts = self.hv.aux_contacts
        self._discharging = (
            not (contacts.main or contacts.precharge)
            and self.hv.link_voltage_v > DISCHARGED_V
            and (self._discharging or bms.contactor_state is not ContactorState.PRECHARGE)
        )
        drive = self.drive.step(
            dt,
            DriveInputs(
                t_s=t,
                torque_request_nm=request,
                shaft_speed_rad_s=self.motor_speed_rad_s,
                dc_voltage_v=self.hv.link_voltage_v,
                coolant_temp_c=self.coolant_c,
                command_age_s=0.0 if heard is None else t - heard,
                regen_current_limit_a=bms.charge_current_limit_a,
                sync_regen_current_a=sync_regen_a,
                fault_reset=fault_reset,
                discharge_request=self._discharging,
                hv_ready=contacts.main and contacts.negative,
            ),
        )
        # the motor's own friction and windage are taken from its shaft before the gears; bearing
        # friction is Coulomb friction, which a shaft at rest does not feel: it fades in over the
        # rest speed instead of flipping sign with a speed that jitters around zero
        at_rest = min(max(self.motor_speed_rad_s / self.rest_speed_rad_s, -1.0), 1.0)
        shaft_nm = drive.torque_nm - drive.mechanical_drag_nm * at_rest
        self._step_shafts(dt, shaft_nm, tx)
        self._step_hv(dt, drive.i_dc_a, bms.contactor_command)
        self._step_bms(dt, t, fault_reset)
        self._check_instruments()
        self._report_faults(t)
        self._record()
        if self.on_step is not None:
            self.on_step(self)

    def _torque_demand(self, dt: float) -> float:
        """The VCU's torque request, or in speed control the speed loop's, inside the drive's limits."""
        if self.vcu.speed_rpm is None:
            return self.vcu.torque_nm
        state = self.drive.state
        motoring, regen = state.torque_limit_nm, state.regen_torque_limit_nm
        low, high = (-regen, motoring) if self.motor_speed_rad_s >= 0.0 else (-motoring, regen)
        target = self.vcu.speed_rpm * math.pi / 30.0
        return self.speed_control.update(dt, target, self.motor_speed_rad_s, low, high)

    def _step_shafts(self, dt: float, motor_nm: float, tx: object) -> None:
        load_nm = self.dyno.update(dt, self.output_speed_rad_s) if self.dyno is not None else 0.0
        drag_nm = self.friction * self.output_speed_rad_s
        gear = tx.current_gear  # type: ignore[attr-defined]
        if gear:
            ratio = self.tx.ratios[gear]
            self.output_torque_nm = ratio * motor_nm * self._mesh_factor(gear, motor_nm)
            inertia = self.output_inertia + self.motor_inertia * ratio * ratio
            self.output_speed_rad_s += dt * (self.output_torque_nm - load_nm - drag_nm) / inertia
            self.motor_speed_rad_s = ratio * self.output_speed_rad_s
        else:  # neutral: the motor spins on its own while the gears synchronise
            self.output_torque_nm = 0.0
            self.motor_speed_rad_s += dt * motor_nm / self.motor_inertia
            self.output_speed_rad_s += dt * (-load_nm - drag_nm) / self.output_inertia

    def _mesh_factor(self, gear: int, motor_nm: float) -> float:
        """Output torque per ratio × input torque: η while the motor drives the gears, 1/η while the
        output drives them (the motor turned against its torque). A motor pushing on a locked or
        creeping output drives it, so the loss does not flip with speed noise at standstill; turned
        backwards, the factor moves from η to 1/η over the rest speed, continuous through zero."""
        against = -math.copysign(1.0, motor_nm) * self.motor_speed_rad_s
        driving = min(max(1.0 - 2.0 * against / self.rest_speed_rad_s, -1.0), 1.0)
        return self.gear_efficiency[gear] ** driving

    def _step_hv(self, dt: float, inverter_a: float, command: object) -> None:
        """The pack-side node (supply output capacitor, e-load) and the HV path to the DC link.

        The e-load can be far stiffer than the node (CV mode: tens of A/V on a millifarad), so the
        node takes a backward-Euler step with the load current at the new voltage."""
        hv, supply, eload = self.hv, self.supply, self.eload
        v = self.pack_voltage_v
        tied = hv.main.closed and hv.negative.closed
        if tied and abs(hv.link_voltage_v - v) > TIE_SHARING_FRACTION * max(v, hv.link_voltage_v):
            # closed onto a link far from the pack node (no pre-charge: a weld, a bypass): the two
            # capacitors share their charge through the contactor's milliohms at once, and the
            # supply sees the node where that leaves it, not a link already charged
            total = self.pack_capacitance_f + hv.capacitance_f
            v = (self.pack_capacitance_f * v + hv.capacitance_f * hv.link_voltage_v) / total
            hv.link_voltage_v = v
        # what a fault-insertion box puts across the DC link, at the inverter's DC input
        link_load_s = self.fault_box.link_load_s if self.fault_box is not None else 0.0
        # a closed main contactor makes both capacitors one node, drawn on by the inverter itself
        capacitance = self.pack_capacitance_f + (hv.capacitance_f if tied else 0.0)
        out_a = inverter_a + link_load_s * hv.link_voltage_v if tied else hv.source_current_a

        def load_a(x: float) -> float:
            return eload.current(x) if eload is not None else 0.0

        supply_a, regulating, v_new = 0.0, False, v
        if supply is not None and supply.output_on:
            supply.ramp(dt)
            v_new = supply.programmed_v
            needed = load_a(v_new) + out_a + capacitance * (v_new - v) / dt
            low, high = supply.current_limits(v_new)
            regulating = low <= needed <= high
            supply_a = min(max(needed, low), high)
        if not regulating:
            v_new = self._backward_euler(v, dt, capacitance, supply_a - out_a, load_a)
        self.pack_voltage_v = v_new
        hv.step(dt, v_new, inverter_a, command, link_load_s)  # type: ignore[arg-type]
        if regulating:  # what the CV loop actually delivered, with the path's current of this step
            supply_a = load_a(v_new) + hv.source_current_a + self.pack_capacitance_f * (v_new - v) / dt
        if supply is not None:
            supply.voltage_v, supply.current_a = v_new, supply_a
            supply.constant_current = supply.output_on and not regulating
        if eload is not None:
            eload.voltage_v = v_new
            eload.current_a = load_a(v_new)

    def _backward_euler(
        self, v: float, dt: float, capacitance: float, net_a: float, load_a: Callable[[float], float]
    ) -> float:
        """x with C·(x − v)/dt = net_a − load_a(x), x ≥ 0; load_a(0) = 0."""
        free = v + dt * net_a / capacitance
        if self.eload is None or not self.eload.input_on:
            return max(free, 0.0)

        def residual(x: float) -> float:
            return x - free + dt * load_a(x) / capacitance

        if residual(0.0) >= 0.0:
            return 0.0
        low, high = 0.0, max(free, v, 1.0) + 1.0
        for _ in range(48):
            middle = 0.5 * (low + high)
            if residual(middle) < 0.0:
                low = middle
            else:
                high = middle
        return 0.5 * (low + high)

    def _step_bms(self, dt: float, t: float, fault_reset: bool) -> None:
        inputs = self._bms_inputs
        inputs.t_s = t
        inputs.cell_voltages_v = self.cells.voltages() if self.cells is not None else inputs.cell_voltages_v
        inputs.pack_current_a = self.hv.source_current_a
        inputs.pack_voltage_v = self.pack_voltage_v
        inputs.link_voltage_v = self.hv.link_voltage_v
        inputs.aux_contacts = self.hv.aux_contacts
        # the emulator stands in for the first NTC, fixed resistors for the rest
        if self.thermistor is not None:
            inputs.cell_temps_c[0] = ntc_temperature_c(self.thermistor.resistance_ohm, *self._ntc)
        if self.fault_box is not None:  # the box in parallel with the harness's own insulation
            inputs.insulation_hv_pos_ohm = _parallel(self.harness_insulation_ohm, self.fault_box.hv_pos_ohm)
            inputs.insulation_hv_neg_ohm = _parallel(self.harness_insulation_ohm, self.fault_box.hv_neg_ohm)
        if self.vcu.bms_heard_s is None:  # no VCU on the bus: the hard-wired ignition decides
            inputs.close_request, inputs.vcu_heartbeat_age_s = self.ignition, 0.0
        else:
            inputs.close_request = self.vcu.close_contactors
            inputs.vcu_heartbeat_age_s = t - self.vcu.bms_heard_s
        inputs.reset = fault_reset
        state = self.bms.step(dt, inputs)
        if self.cells is not None:
            self.cells.bleed_a = state.bleed_currents_a

    def _check_instruments(self) -> None:
        for model in (self.supply, self.eload, self.cells):
            if model is not None:
                model.check()
        if self.dyno is not None:
            self.dyno.check(self.speed_rpm)

    def _report_faults(self, t: float) -> None:
        for subsystem, (model, table) in self._subsystems.items():
            active = model.active_faults
            before = self._active[subsystem]
            if active == before:
                continue
            self._active[subsystem] = active
            snapshot = {
                "dc_voltage_v": self.hv.link_voltage_v,
                "speed_rpm": self.motor_speed_rad_s * 30.0 / math.pi,
                "temperature_c": self.drive.state.heatsink_temp_c,
            }
            for name in sorted(active ^ before):
                code = table[name]
                change = FaultChange(
                    t, subsystem, name, code.spn, code.fmi, code.lamp, name in active, snapshot
                )
                self.fault_changes.append(change)
                if self.on_fault is not None:
                    self.on_fault(change)

    def _record(self) -> None:
        state = self.drive.state
        drive = (float(getattr(state, name)) for name in DRIVE_FIELDS)
        self._trajectory.append((self.time_s, *drive, self.hv.source_current_a))

    # --- what the instruments and the CAN side read -------------------------------------------------
    @property
    def torque_request_nm(self) -> float:
        return self._demand_nm

    @property
    def speed_control_active(self) -> bool:
        """TSC1 asks for speed control (override control mode 1)."""
        return self.vcu.speed_rpm is not None

    @property
    def controlling_address(self) -> int:
        return self.vcu.controlling_address

    @property
    def speed_rpm(self) -> float:
        """The dyno's shaft: the transmission output."""
        return self.output_speed_rad_s * 30.0 / math.pi

    @property
    def motor_speed_rpm(self) -> float:
        return self.motor_speed_rad_s * 30.0 / math.pi

    @property
    def motor_torque_nm(self) -> float:
        return self.drive.state.torque_nm

    @property
    def dc_link_voltage_v(self) -> float:
        return self.hv.link_voltage_v

    @property
    def inverter_dc_current_a(self) -> float:
        """What the inverter draws from its DC link: bridge, active discharge and bleed."""
        return self.drive.state.i_dc_a

    @property
    def dc_input_current_a(self) -> float:
        """Through the contactors into the inverter's DC input: the link capacitor's charging current
        (the pre-charge inrush) besides what the inverter draws; the step's mean."""
        return self.hv.source_current_a

    @property
    def electrical_frequency_hz(self) -> float:
        return self.drive.state.f_electrical_hz

    def phase_quantities(self) -> tuple[float, float, float]:
        state = self.drive.state
        return state.v_phase_rms_v, state.i_phase_rms_a, state.voltage_angle_rad - state.current_angle_rad

    def trajectory(self, start_s: float, end_s: float) -> dict[str, np.ndarray]:
        return self._trajectory.window(start_s, end_s)

    def drive_trajectory(self, start_s: float, end_s: float) -> DriveTrajectory:
        window = self._trajectory.window(start_s, end_s)
        columns = {name: window[name] for name in TRAJECTORY_FIELDS}
        columns["pwm_enabled"] = columns["pwm_enabled"] != 0.0
        return DriveTrajectory(t_s=window["time_s"], **columns)


def _parallel(a_ohm: float, b_ohm: float) -> float:
    if math.isinf(b_ohm):
        return a_ohm
    return a_ohm * b_ohm / (a_ohm + b_ohm)
