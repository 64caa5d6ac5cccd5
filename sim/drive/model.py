"""The inverter + induction motor as the plant steps it: torque command → rate and envelope limits →
flux-dependent torque with a first-order lag; d/q currents, slip, voltages, losses, DC current,
heatsink and winding temperatures; protections and active discharge (reference §4.1–4.3, §2.1).

The controller works on *measured* currents: with a current-sensor gain g ≠ 1 it regulates the
measured values, so the true currents and flux are 1/g of what it believes and the true torque
1/g² of its estimate; the OC trip compares the measured current.

Inputs apply over the step (t_s − dt, t_s]; the state is the one at t_s. A trip inside the step
leaves the state tripped at t_s and records the exact instant in ``pwm_edge_t_s`` and ``events``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sim.drive.faults import PWM_EVENT, Event
from sim.drive.losses import LossModel
from sim.drive.machine import Machine, OperatingPoint, derate, operating_point
from sim.drive.protection import Protections, Sample, Thresholds

_TINY_FLUX_WB = 1e-12  # numerical floor for divisions by the flux, far below any physical flux


@dataclass
class DriveInputs:
    t_s: float  # simulated time at the end of the step, s
    torque_request_nm: float  # shaft torque command (TSC1), positive drives positive speed
    shaft_speed_rad_s: float
    dc_voltage_v: float
    coolant_temp_c: float
    command_age_s: float = 0.0  # age of the last torque command received
    regen_current_limit_a: float = math.inf  # BMS charge-current limit, magnitude, A
    # the DC current a gear synchronisation may return for its few tenths of a second, whatever the
    # sustained limit (the TCU's speed-control request); 0 outside a synchronisation
    sync_regen_current_a: float = 0.0
    fault_reset: bool = False  # its rising edge resets latched faults whose condition has cleared
    discharge_request: bool = False  # contactors open: PWM off, active discharge on
    hv_ready: bool = True  # main contactor closed: the inverter may modulate (not through pre-charge)


@dataclass
class DriveState:
    t_s: float = 0.0
    torque_nm: float = 0.0  # true electromagnetic torque on the shaft
    torque_estimate_nm: float = 0.0  # the drive's own figure (from measured currents), for CAN
    torque_limit_nm: float = 0.0  # motoring envelope with derates, magnitude
    regen_torque_limit_nm: float = 0.0  # generating limit (taper, BMS current), magnitude
    undervoltage_derate: float = 1.0  # factors on the envelope, 1 = not derating
    heatsink_derate: float = 1.0
    winding_derate: float = 1.0
    regen_taper: float = 1.0  # further factor on the generating limit (high link voltage)
    torque_reference_nm: float = 0.0  # command after limits and rate limit
    flux_wb: float = 0.0  # true rotor flux linkage
    flux_fraction: float = 0.0  # of rated
    i_d_a: float = 0.0  # true, peak (amplitude-invariant dq)
    i_q_a: float = 0.0
    i_phase_rms_a: float = 0.0  # true fundamental phase current
    # in a step whose PWM turned off: the current it would have ended with, so the current up to the
    # edge can be drawn rising as the trip saw it; otherwise the same as i_phase_rms_a
    i_phase_rms_pre_edge_a: float = 0.0
    i_phase_sensed_pk_a: float = 0.0  # measured amplitude the protections see
    slip_hz: float = 0.0
    f_electrical_hz: float = 0.0
    electrical_angle_rad: float = 0.0  # rotor-flux angle, unwrapped
    current_angle_rad: float = 0.0  # current vector from the d axis
    voltage_angle_rad: float = 0.0  # voltage vector from the d axis
    v_phase_rms_v: float = 0.0
    power_factor: float = 0.0
    p_shaft_w: float = 0.0  # T·ω less friction and windage
    dc_voltage_v: float = 0.0  # the link voltage of the step (input, kept for the trajectory)
    p_dc_w: float = 0.0  # drawn by the inverter bridge from the link (negative in regen)
    i_dc_a: float = 0.0  # total link current: bridge + active discharge + bleed
    i_discharge_a: float = 0.0  # active discharge + bleed share of i_dc_a
    mechanical_drag_nm: float = 0.0  # friction + windage torque (for a plant without its own)
    losses_w: dict[str, float] = field(default_factory=dict)
    heatsink_temp_c: float = math.nan
    winding_temp_c: float = math.nan
    pwm_enabled: bool = False
    pwm_edge_t_s: float = math.nan  # instant PWM toggled inside the last step, else NaN

    @property
    def derating(self) -> bool:
        """A derate acts on the modulating drive's limits (not the torque-speed envelope itself)."""
        factors = (self.undervoltage_derate, self.heatsink_derate, self.winding_derate, self.regen_taper)
        return self.pwm_enabled and min(factors) < 1.0


class InverterMotor:
    """One drive unit. Sections are SI dicts (``sim.parameters.load_section``) of drive.yaml."""

    def __init__(
        self,
        motor: Mapping[str, float],
        inverter: Mapping[str, float],
        protection: Mapping[str, float],
        initial_heatsink_temp_c: float | None = None,
        initial_winding_temp_c: float | None = None,
    ) -> None:
        """Initial temperatures: None takes the coolant temperature of the first step."""
        self.machine = Machine.from_sections(motor, inverter)
        self.loss_model = LossModel.from_sections(self.machine, motor, inverter)
        m = self.machine
        self.protections = Protections(Thresholds.from_section(protection, m.max_speed, m.current_max_pk))
        self.production_overcurrent_trip_pk = self.protections.th.oc_trip_pk
        self._uv_derate = (protection["undervoltage_derate_start"], protection["undervoltage_derate_end"])
        self._hs_derate = (protection["heatsink_derate_start"], protection["heatsink_derate_end"])
        self._w_derate = (protection["winding_derate_start"], protection["winding_derate_end"])
        self._regen_taper = (protection["regen_taper_start"], protection["regen_taper_end"])
        self._envelope_key = (math.nan, math.nan)
        self._envelope = (0.0, 0.0)
        self._tau_torque = motor["torque_time_constant"]
        self._damping = motor["torque_loop_damping"]
        self._torque_rate = 0.0  # d(torque)/dt of an underdamped loop, N·m/s
        # the warnings that hold the torque at zero (the firmware's fault-reaction table)
        self._inhibited_by = {"command_timeout"} | (
            {"overspeed"} if protection["overspeed_torque_inhibit"] >= 0.5 else set()
        )
        # a firmware that applies a fixed charge current instead of the BMS's published limit
        self._fixed_regen_a = protection["regen_fixed_current_limit"]
        self._rate = motor["torque_rate_limit"]
        self._winding_r = motor["winding_thermal_resistance"]
        self._winding_tau = motor["winding_time_constant"]
        self._heatsink_r = inverter["heatsink_thermal_resistance"]
        self._heatsink_tau = inverter["heatsink_time_constant"]
        self._gain = inverter["current_sensor_gain"]
        self._r_active = inverter["active_discharge_resistance"]
        self._r_bleed = inverter["bleed_resistance"]
        self.state = DriveState(
            heatsink_temp_c=_nan_or(initial_heatsink_temp_c), winding_temp_c=_nan_or(initial_winding_temp_c)
        )
        self._armed = False
        self._reset_before = False
        self._flux_ctrl = 0.0  # the controller's flux (measured-current frame)
        self._torque_ctrl = 0.0
        self._electrical_losses_w = 0.0
        self._last: Sample | None = None

    @property
    def overcurrent_trip_pk(self) -> float:
        """The SW phase over-current trip level in force, A peak (measured current)."""
        return self.protections.th.oc_trip_pk

    def set_overcurrent_trip(self, level_pk: float | None) -> None:
        """A test calibration of the over-current trip level (INV-04); None: the production level."""
        level = self.production_overcurrent_trip_pk if level_pk is None else level_pk
        self.protections.th = replace(self.protections.th, oc_trip_pk=level)

    @property
    def active_faults(self) -> frozenset[str]:
        return self.protections.active

    @property
    def events(self) -> list[Event]:
        """Protection and PWM events in time order of detection; the caller may clear the list."""
        return self.protections.events

    def step(self, dt_s: float, u: DriveInputs) -> DriveState:
        s = self.state
        m = self.machine
        t0 = u.t_s - dt_s
        if math.isnan(s.heatsink_temp_c):
            s.heatsink_temp_c = u.coolant_temp_c
        if math.isnan(s.winding_temp_c):
            s.winding_temp_c = u.coolant_temp_c
        before = self._last or Sample(
            t0, u.dc_voltage_v, 0.0, abs(u.shaft_speed_rad_s), s.heatsink_temp_c, s.winding_temp_c
        )
        was_enabled = s.pwm_enabled
        s.pwm_edge_t_s = math.nan

        # readiness, reset, discharge: input changes act from the start of the step
        if u.fault_reset and not self._reset_before:
            self.protections.reset(
                t0, Sample(t0, u.dc_voltage_v, 0.0, 0.0, s.heatsink_temp_c, s.winding_temp_c)
            )
        self._reset_before = u.fault_reset
        if u.discharge_request:
            self._armed = False
        elif (
            not self._armed
            and u.hv_ready
            and u.dc_voltage_v >= self.protections.th.ready_voltage
            and not self.protections.latched
        ):
            self._armed = True
        enabled = self._armed and not self.protections.latched
        if enabled != was_enabled:
            self._edge(t0, enabled)

        speed = u.shaft_speed_rad_s
        v_dc = u.dc_voltage_v
        if (speed, v_dc) != self._envelope_key:  # a dyno holding speed on a steady link repeats it
            self._envelope_key = (speed, v_dc)
            self._envelope = m.flux_and_envelope(speed, v_dc)
        psi_cmd, envelope = self._envelope
        s.undervoltage_derate = derate(v_dc, *self._uv_derate)
        s.heatsink_derate = derate(s.heatsink_temp_c, *self._hs_derate)
        s.winding_derate = derate(s.winding_temp_c, *self._w_derate)
        s.regen_taper = derate(v_dc, *self._regen_taper)
        motoring_limit = envelope * min(s.undervoltage_derate, s.heatsink_derate, s.winding_derate)
        regen_limit = motoring_limit * s.regen_taper
        if abs(speed) > 0.0 and v_dc > 0.0:
            charge_a = self._fixed_regen_a if self._fixed_regen_a > 0.0 else u.regen_current_limit_a
            charge_a = max(charge_a, u.sync_regen_current_a)
            regen_limit = min(regen_limit, (charge_a * v_dc + self._electrical_losses_w) / abs(speed))
        request = u.torque_request_nm
        if not enabled or self.protections.warnings & self._inhibited_by:
            request = 0.0
        if speed >= 0.0:
            request = min(max(request, -regen_limit), motoring_limit)
        else:
            request = min(max(request, -motoring_limit), regen_limit)
        step_max = self._rate * dt_s
        reference = s.torque_reference_nm + min(max(request - s.torque_reference_nm, -step_max), step_max)
        if not enabled:
            reference = 0.0

        # flux in the controller's frame: forced build-up, decay with τ_r when lowering or off
        tau_r = m.rotor_time_constant(s.winding_temp_c)
        decay = math.exp(-dt_s / tau_r)
        psi = self._flux_ctrl
        if not enabled:
            i_d_ctrl = 0.0
            psi *= decay
        elif psi < psi_cmd:
            i_d_ctrl = min(m.flux_forcing * psi_cmd / m.l_m, m.current_max_pk)
            psi = m.l_m * i_d_ctrl + (psi - m.l_m * i_d_ctrl) * decay
            if psi >= psi_cmd:
                psi, i_d_ctrl = psi_cmd, psi_cmd / m.l_m
        else:
            psi = max(psi * decay, psi_cmd)
            i_d_ctrl = psi_cmd / m.l_m if psi == psi_cmd else 0.0
        self._flux_ctrl = psi

        available = m.k_torque * psi * math.sqrt(max(m.current_max_pk**2 - i_d_ctrl * i_d_ctrl, 0.0))
        target = min(max(reference, -available), available)
        torque_ctrl = self._torque_response(target, dt_s)
        torque_ctrl = min(max(torque_ctrl, -available), available) if enabled else 0.0
        if not enabled:
            self._torque_rate = 0.0
        self._torque_ctrl = torque_ctrl

        g = self._gain
        psi_true = psi / g
        i_d = i_d_ctrl / g
        torque = torque_ctrl / (g * g)
        op = operating_point(m, torque, max(psi_true, _TINY_FLUX_WB), speed, s.winding_temp_c, i_d)
        i_pk = op.i_pk
        lm = self.loss_model
        # an empty link cannot modulate (the losses are zeroed below); 1 V keeps the formula finite
        losses = lm.motor(m, op, psi_true) | lm.inverter(i_pk, op.p_terminal, max(v_dc, 1.0))
        if not enabled:
            losses = dict.fromkeys(losses, 0.0)
        p_mech = lm.mechanical(speed)
        losses["mechanical"] = p_mech
        p_inverter = losses["inverter_conduction"] + losses["inverter_switching"]
        p_motor = losses["stator_copper"] + losses["rotor_copper"] + losses["iron"]
        p_dc = op.p_terminal + losses["iron"] + p_inverter if enabled else 0.0
        self._electrical_losses_w = p_motor + p_inverter

        s.heatsink_temp_c = _relax(
            s.heatsink_temp_c, u.coolant_temp_c + self._heatsink_r * p_inverter, dt_s, self._heatsink_tau
        )
        s.winding_temp_c = _relax(
            s.winding_temp_c, u.coolant_temp_c + self._winding_r * p_motor, dt_s, self._winding_tau
        )

        now = Sample(
            u.t_s, v_dc, g * i_pk if enabled else 0.0, abs(speed), s.heatsink_temp_c, s.winding_temp_c
        )
        tripped_at = self.protections.check(before, now, u.command_age_s, self._armed)
        self._last = now
        pre_edge_pk = i_pk
        if tripped_at is not None and enabled:
            enabled = False
            self._edge(tripped_at, False)
        if not enabled:
            torque = torque_ctrl = reference = i_d = 0.0
            self._torque_ctrl = self._torque_rate = 0.0
            op = operating_point(m, 0.0, max(psi_true, _TINY_FLUX_WB), speed, s.winding_temp_c, 0.0)
            i_pk = p_dc = 0.0
            losses = dict.fromkeys(losses, 0.0) | {"mechanical": p_mech}

        self._write_state(
            s, u, dt_s, op, i_pk, torque, torque_ctrl, reference, psi_true, enabled, losses, p_dc
        )
        s.i_phase_rms_pre_edge_a = (pre_edge_pk if math.isfinite(s.pwm_edge_t_s) else i_pk) / math.sqrt(2.0)
        s.torque_limit_nm = motoring_limit
        s.regen_torque_limit_nm = regen_limit
        return s

    def _write_state(
        self,
        s: DriveState,
        u: DriveInputs,
        dt_s: float,
        op: OperatingPoint,
        i_pk: float,
        torque: float,
        torque_ctrl: float,
        reference: float,
        psi_true: float,
        enabled: bool,
        losses: dict[str, float],
        p_dc: float,
    ) -> None:
        m = self.machine
        speed = u.shaft_speed_rad_s
        v_dc = u.dc_voltage_v
        w_e = op.w_e if enabled else m.pole_pairs * speed
        s.t_s = u.t_s
        s.torque_nm = torque
        s.torque_estimate_nm = torque_ctrl
        s.torque_reference_nm = reference
        s.flux_wb = psi_true
        s.flux_fraction = psi_true / m.psi_rated
        s.i_d_a = op.i_d if enabled else 0.0
        s.i_q_a = op.i_q if enabled else 0.0
        s.i_phase_rms_a = i_pk / math.sqrt(2.0)
        s.i_phase_sensed_pk_a = self._gain * i_pk
        s.slip_hz = (op.w_sl if enabled else 0.0) / (2.0 * math.pi)
        s.f_electrical_hz = w_e / (2.0 * math.pi)
        s.electrical_angle_rad += w_e * dt_s
        s.pwm_enabled = enabled
        p_ac = op.p_terminal + losses["iron"]
        v_pk = op.v_pk if enabled else 0.0
        s.v_phase_rms_v = v_pk / math.sqrt(2.0)
        s.current_angle_rad = math.atan2(s.i_q_a, s.i_d_a)
        apparent = 1.5 * v_pk * i_pk
        s.power_factor = min(max(p_ac / apparent, -1.0), 1.0) if apparent > 0.0 else 0.0
        # the voltage leads the current by the angle whose cosine is the power factor (iron loss included)
        lead = math.acos(s.power_factor)
        if op.v_d * op.i_q - op.v_q * op.i_d > 0.0:
            lead = -lead
        s.voltage_angle_rad = s.current_angle_rad + lead
        s.p_shaft_w = torque * speed - losses["mechanical"]
        s.mechanical_drag_nm = losses["mechanical"] / abs(speed) if speed != 0.0 else 0.0
        s.p_dc_w = p_dc
        s.dc_voltage_v = v_dc
        discharge = v_dc / self._r_active if u.discharge_request else 0.0
        s.i_discharge_a = max(v_dc, 0.0) * (1.0 / self._r_bleed) + max(discharge, 0.0)
        s.i_dc_a = (p_dc / v_dc if v_dc > 0.0 else 0.0) + s.i_discharge_a
        s.losses_w = losses

    def _torque_response(self, target: float, dt_s: float) -> float:
        """The torque loop: with damping 1 (the tuned loop) a first-order lag τ_T; below 1 an
        underdamped second-order loop with ω_n = 1/τ_T that overshoots (INV-05)."""
        if self._damping >= 1.0:
            return self._torque_ctrl + (target - self._torque_ctrl) * (
                1.0 - math.exp(-dt_s / self._tau_torque)
            )
        w = 1.0 / self._tau_torque
        self._torque_rate += dt_s * (
            w * w * (target - self._torque_ctrl) - 2.0 * self._damping * w * self._torque_rate
        )
        return self._torque_ctrl + dt_s * self._torque_rate

    def _edge(self, t_s: float, enabled: bool) -> None:
        self.state.pwm_edge_t_s = t_s
        self.protections.events.append(Event(t_s, PWM_EVENT, "on" if enabled else "off"))


def _relax(x: float, target: float, dt_s: float, tau_s: float) -> float:
    return target + (x - target) * math.exp(-dt_s / tau_s)


def _nan_or(value: float | None) -> float:
    return math.nan if value is None else value
