"""The BMS firmware: what it measures, the protections it runs, its SOC, limits, balancing and the
contactor sequence (reference §2.3 BMS-01…BMS-11).

Every protection is a debounced ``LevelMonitor`` on a measured value, with the crossing time
interpolated inside the step. Amber entries (warnings) clear by themselves with hysteresis; red
entries (trips) open the contactors and stay active until a ``reset`` input finds their condition
gone.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.bms.contactors import ALL_OPEN, Contactors, ContactorState, PrechargeSequencer
from sim.bms.faults import AMBER, FAULTS, RED, Event
from sim.bms.limits import CurrentLimits
from sim.bms.monitor import LevelMonitor
from sim.bms.ocv import OcvTable
from sim.bms.soc import SocEstimator

_NOISE_BLOCK_STEPS = 512  # cell-noise samples drawn at once: one numpy call per this many steps


@dataclass(slots=True)
class BmsInputs:
    """What reaches the BMS in one step. Currents + discharge (out of the pack)."""

    t_s: float
    cell_voltages_v: Sequence[float]  # at the cell-simulator channels, one per sensed cell
    cell_temps_c: Sequence[float]  # what each NTC input stands for; the BMS adds its sensing error
    pack_current_a: float  # true current through the HV path; the BMS adds its sensor's errors
    pack_voltage_v: float
    link_voltage_v: float
    insulation_hv_pos_ohm: float = float("inf")  # HV+ to chassis
    insulation_hv_neg_ohm: float = float("inf")  # HV− to chassis
    vcu_heartbeat_age_s: float = 0.0  # time since the VCU's last heartbeat frame
    aux_contacts: Contactors = ALL_OPEN
    close_request: bool = False
    reset: bool = False


@dataclass(slots=True)
class BmsState:
    """What the firmware knows and decides; measured values include the measurement errors.
    Cell indexes are 0-based. Lists are owned by the firmware: read, do not modify."""

    contactor_state: ContactorState = ContactorState.OPEN
    contactor_command: Contactors = ALL_OPEN
    precharge_attempt: int = 0
    soc: float = 0.0  # fraction
    soh: float = 1.0  # fraction
    charge_current_limit_a: float = 0.0
    discharge_current_limit_a: float = 0.0
    charge_power_limit_w: float = 0.0
    discharge_power_limit_w: float = 0.0
    charge_inhibit: bool = False
    charging: bool = False
    balancing_active: bool = False
    bleed_currents_a: list[float] = field(default_factory=list)  # drawn from each channel
    cell_voltages_v: list[float] = field(default_factory=list)
    max_cell_v: float = 0.0
    min_cell_v: float = 0.0
    max_cell_index: int = 0
    min_cell_index: int = 0
    max_temp_c: float = 0.0
    min_temp_c: float = 0.0
    pack_current_a: float = 0.0
    pack_voltage_v: float = 0.0
    link_voltage_v: float = 0.0
    insulation_ohm: float = 0.0  # the lower of HV+ and HV− to chassis
    warning_active: bool = False
    fault_active: bool = False


class BmsFirmware:
    def __init__(
        self, params: Mapping[str, float], n_cells: int = 24, rng: np.random.Generator | None = None
    ) -> None:
        p = dict(params)
        self.params = p
        self.n_cells = n_cells
        self._rng = rng if rng is not None else np.random.default_rng(0)
        self._cell_gain = 1.0 + p["cell_voltage_gain_error"]
        self._cell_offset_v = p["cell_voltage_offset"]
        self._cell_noise_v = p["cell_voltage_noise"]
        self._noise: list[float] = []
        self._noise_at = 0
        self._current_gain = 1.0 + p["current_gain_error"]
        self._current_offset_a = p["current_offset"]
        self._pack_gain = 1.0 + p["pack_voltage_gain_error"]
        self._link_gain = 1.0 + p["link_voltage_gain_error"]
        self._insulation_max_ohm = p["insulation_measure_max"]
        self._insulation_gain = 1.0 + p["insulation_gain_error"]
        self._temperature_offset_c = p["temperature_offset"]
        self._limits_delay_s = p["limits_delay"]
        self._limits_queue: deque[tuple[float, float, float]] = deque()  # (t, charge A, discharge A)

        cell_s, temp_s = p["cell_voltage_debounce"], p["temperature_debounce"]
        warn_s = p["cell_warning_debounce"]
        self._ov_trip = LevelMonitor(True, cell_s)
        self._uv_trip = LevelMonitor(False, cell_s)
        self._ot_trip = LevelMonitor(True, temp_s)
        self._vcu = LevelMonitor(True, 0.0)
        self._weld = LevelMonitor(True, p["weld_detect_time"])
        self._over_discharge = LevelMonitor(True, p["overcurrent_limit_time"])
        self._over_charge = LevelMonitor(True, p["overcurrent_limit_time"])
        self._over_peak = LevelMonitor(True, p["overcurrent_peak_time"])
        self._iso_warning = LevelMonitor(False, p["insulation_debounce"])
        self._iso_fault = LevelMonitor(False, p["insulation_debounce"])
        hyst, ot_clear, timeout = p["cell_voltage_hysteresis"], p["overtemperature_clear"], p["vcu_timeout"]
        ov_warn, ov_trip = p["cell_overvoltage_warning"], p["cell_overvoltage_trip"]
        uv_warn, uv_trip = p["cell_undervoltage_warning"], p["cell_undervoltage_trip"]
        # fixed levels: (monitor, fault, index into the measured tuple of ``step``, level, clear level)
        self._fixed_levels = (
            (LevelMonitor(True, warn_s), "cell_overvoltage_warning", 0, ov_warn, ov_warn - hyst),
            (self._ov_trip, "cell_overvoltage", 0, ov_trip, ov_trip - hyst),
            (LevelMonitor(False, warn_s), "cell_undervoltage_warning", 1, uv_warn, uv_warn + hyst),
            (self._uv_trip, "cell_undervoltage", 1, uv_trip, uv_trip + hyst),
            (
                LevelMonitor(True, temp_s),
                "overtemperature_warning",
                2,
                p["overtemperature_warning"],
                ot_clear,
            ),
            (self._ot_trip, "overtemperature", 2, p["overtemperature_trip"], ot_clear),
            (
                LevelMonitor(False, temp_s),
                "charge_inhibited_cold",
                3,
                p["charge_min_temperature"],
                p["charge_inhibit_clear"],
            ),
            (self._vcu, "vcu_timeout", 6, timeout, timeout),
            (self._weld, "contactor_welded", 7, 0.5, 0.5),
        )
        self._overcurrent_tolerance_a = p["overcurrent_tolerance"]
        self._insulation_warning_ohm_per_v = p["insulation_warning"]
        self._insulation_fault_ohm_per_v = p["insulation_fault"]
        self._insulation_clear = 1.0 + p["insulation_hysteresis"]
        self._charging_a = p["charging_detect_current"]
        # a latched trip clears on reset only once every monitor behind it is inactive
        self._conditions: dict[str, tuple[LevelMonitor, ...]] = {
            "cell_overvoltage": (self._ov_trip,),
            "cell_undervoltage": (self._uv_trip,),
            "overtemperature": (self._ot_trip,),
            "overcurrent": (self._over_discharge, self._over_charge, self._over_peak),
            "insulation_fault": (self._iso_fault,),
            "vcu_timeout": (self._vcu,),
            "contactor_welded": (self._weld,),
            "precharge_failed": (),
        }

        capacity_as = p["capacity"]
        self._peak_current_a = p["overcurrent_peak_c_rate"] * capacity_as
        self.limits = CurrentLimits(p, capacity_as)
        self.ocv = OcvTable.from_params(p)
        self.soc = SocEstimator(p, self.ocv)
        self.sequencer = PrechargeSequencer(p)

        self._balancing_enabled = p["balancing_enabled"] >= 0.5
        self._balance_start_v = p["balance_start_voltage"]
        self._balance_start_delta_v = p["balance_start_delta"]
        self._balance_stop_delta_v = p["balance_stop_delta"]
        self._bleed_conductance_s = 1.0 / p["balance_resistance"]
        self._balance_tau_s = p["balance_filter_time"]
        self._balance_cells: list[float] | None = None  # the cell voltages filtered for balancing
        self._no_bleed = [0.0] * n_cells

        # a weld is a red fault that latches the sequence; a firmware with the weld reaction left out
        # only reports it
        weld_blocks = p["weld_inhibits_close"] >= 0.5
        self._weld_latches = weld_blocks
        self._red = RED if weld_blocks else RED - {"contactor_welded"}
        self._active: set[str] = set()
        self.active_faults: frozenset[str] = frozenset()
        self.events: list[Event] = []
        self.state = BmsState(soc=self.soc.soc, soh=p["state_of_health"], bleed_currents_a=self._no_bleed)
        self._previous: tuple[float, ...] | None = None

    # -- faults ---------------------------------------------------------------------------------

    def _set(self, name: str, t_s: float) -> None:
        if name in self._active:
            return
        self._active.add(name)
        self.active_faults = frozenset(self._active)
        self.events.append(Event(t_s, name, "set" if FAULTS[name].lamp == "red" else "warn"))
        if name == "contactor_welded" and self._weld_latches:
            self.sequencer.latch()  # a welded contactor must not be closed against again

    def _clear(self, name: str, t_s: float) -> None:
        if name not in self._active:
            return
        self._active.discard(name)
        self.active_faults = frozenset(self._active)
        self.events.append(Event(t_s, name, "clear"))

    def _changed(self, monitor: LevelMonitor, name: str, t_s: float) -> None:
        if monitor.active:
            self._set(name, t_s)
        elif name not in RED:
            self._clear(name, t_s)

    def _reset(self, t_s: float) -> None:
        for name, monitors in self._conditions.items():
            if name in self._active and not any(m.active for m in monitors):
                self._clear(name, t_s)

    # -- measurement ----------------------------------------------------------------------------

    def _measure_cells(self, true_v: Sequence[float]) -> list[float]:
        gain, offset = self._cell_gain, self._cell_offset_v
        if self._cell_noise_v == 0.0:
            return [v * gain + offset for v in true_v]
        n, at = self.n_cells, self._noise_at
        if at + n > len(self._noise):  # the block holds offset + noise, one sample per cell and cycle
            block = self._rng.standard_normal(n * _NOISE_BLOCK_STEPS) * self._cell_noise_v + offset
            self._noise = block.tolist()
            at = 0
        self._noise_at = at + n
        return [v * gain + e for v, e in zip(true_v, self._noise[at : at + n], strict=True)]

    def _delayed_limits(self, t_s: float, charge_a: float, discharge_a: float) -> tuple[float, float]:
        """The limits computed ``limits_delay`` ago: a firmware whose limit task reads stale inputs."""
        queue = self._limits_queue
        queue.append((t_s, charge_a, discharge_a))
        while len(queue) > 1 and queue[1][0] <= t_s - self._limits_delay_s:
            queue.popleft()
        return queue[0][1], queue[0][2]

    def _filter_for_balancing(self, dt_s: float, cells: list[float]) -> list[float]:
        held = self._balance_cells
        if held is None or self._balance_tau_s <= 0.0:
            self._balance_cells = list(cells)
            return self._balance_cells
        a = -math.expm1(-dt_s / self._balance_tau_s)
        self._balance_cells = [f + a * (c - f) for f, c in zip(held, cells, strict=True)]
        return self._balance_cells

    # -- the cycle ------------------------------------------------------------------------------

    def step(self, dt_s: float, inputs: BmsInputs) -> BmsState:
        """One firmware cycle ending at ``inputs.t_s``; returns (and keeps) the updated state."""
        if len(inputs.cell_voltages_v) != self.n_cells:
            raise ValueError(
                f"BmsFirmware: {len(inputs.cell_voltages_v)} cell voltages for {self.n_cells} cells"
            )
        state = self.state
        sequencer = self.sequencer
        t1 = inputs.t_s
        t0 = t1 - dt_s

        cells = self._measure_cells(inputs.cell_voltages_v)
        v_max, v_min = max(cells), min(cells)
        offset_c = self._temperature_offset_c
        t_max, t_min = max(inputs.cell_temps_c) + offset_c, min(inputs.cell_temps_c) + offset_c
        current = inputs.pack_current_a * self._current_gain + self._current_offset_a
        pack_v = inputs.pack_voltage_v * self._pack_gain
        link_v = inputs.link_voltage_v * self._link_gain
        r_iso = min(
            min(inputs.insulation_hv_pos_ohm, inputs.insulation_hv_neg_ohm) * self._insulation_gain,
            self._insulation_max_ohm,
        )
        engaged = inputs.close_request or sequencer.state in (ContactorState.PRECHARGE, ContactorState.CLOSED)
        heartbeat_age = inputs.vcu_heartbeat_age_s if engaged else 0.0
        command, aux = sequencer.command, inputs.aux_contacts
        welded = (
            (aux.main and not command.main)
            or (aux.negative and not command.negative)
            or (aux.precharge and not command.precharge)
        )
        # no current flows through open contactors: a reading then is the sensor's offset, and judged
        # against the zero limits of a red fault it would hold that fault up for good
        flowing_a = current if aux.negative and (aux.main or aux.precharge) else 0.0
        now = (v_max, v_min, t_max, t_min, flowing_a, r_iso, heartbeat_age, 1.0 if welded else 0.0)
        was = self._previous or now
        self._previous = now

        if inputs.reset:
            self._reset(t1)
        changed = self._changed
        for monitor, name, i, level, clear in self._fixed_levels:
            if (t := monitor.update(t0, t1, was[i], now[i], level, clear)) is not None:
                changed(monitor, name, t)
        # over-current against the limits published last cycle, with the sensor's tolerance;
        # insulation levels in ohms per volt of the measured pack voltage (GB 18384)
        over_discharge = state.discharge_current_limit_a + self._overcurrent_tolerance_a
        over_charge = state.charge_current_limit_a + self._overcurrent_tolerance_a
        peak = self._peak_current_a
        iso_warn = self._insulation_warning_ohm_per_v * pack_v
        iso_fault = self._insulation_fault_ohm_per_v * pack_v
        iso_clear = self._insulation_clear
        for monitor, name, x0, x1, level, clear in (
            (self._over_discharge, "overcurrent", was[4], now[4], over_discharge, over_discharge),
            (self._over_charge, "overcurrent", -was[4], -now[4], over_charge, over_charge),
            (self._over_peak, "overcurrent", abs(was[4]), abs(now[4]), peak, peak),
            (self._iso_warning, "insulation_warning", was[5], r_iso, iso_warn, iso_warn * iso_clear),
            (self._iso_fault, "insulation_fault", was[5], r_iso, iso_fault, iso_fault * iso_clear),
        ):
            if (t := monitor.update(t0, t1, x0, x1, level, clear)) is not None:
                changed(monitor, name, t)

        red_active = not self._active.isdisjoint(self._red)
        failure = sequencer.update(t1, inputs.close_request, red_active, pack_v, link_v, current, aux.main)
        if failure is not None:
            kind, failed_at = failure
            if kind == "latched":
                self._set("precharge_failed", failed_at)
                red_active = True
            else:
                self.events.append(Event(failed_at, "precharge_failed", "retry"))

        if self.soc.step(dt_s, current, sum(cells) / self.n_cells):
            self.events.append(Event(t1, "soc_ocv_correction", "info"))

        if red_active:
            charge_a = discharge_a = 0.0
        else:
            charge_a = self.limits.charge_a(v_max, t_max, t_min)
            discharge_a = self.limits.discharge_a(v_min, t_max)
            if self._limits_delay_s > 0.0:
                charge_a, discharge_a = self._delayed_limits(t1, charge_a, discharge_a)

        # balancing decides on the cell voltages filtered over its time constant: the measurement
        # noise alone would start it a few millivolts early
        filtered = self._filter_for_balancing(dt_s, cells)
        f_max, f_min = max(filtered), min(filtered)
        balancing = False
        if self._balancing_enabled and not red_active and f_max > self._balance_start_v:
            needed = self._balance_stop_delta_v if state.balancing_active else self._balance_start_delta_v
            balancing = f_max - f_min > needed
        if balancing:
            floor, g = f_min + self._balance_stop_delta_v, self._bleed_conductance_s
            bleed = [
                v * g if m > floor else 0.0 for v, m in zip(inputs.cell_voltages_v, filtered, strict=True)
            ]
        else:
            bleed = self._no_bleed

        state.contactor_state = sequencer.state
        state.contactor_command = sequencer.command
        state.precharge_attempt = sequencer.attempt
        state.soc = self.soc.soc
        state.charge_current_limit_a = charge_a
        state.discharge_current_limit_a = discharge_a
        state.charge_power_limit_w = charge_a * pack_v
        state.discharge_power_limit_w = discharge_a * pack_v
        state.charge_inhibit = "charge_inhibited_cold" in self._active
        state.charging = sequencer.state is ContactorState.CLOSED and current < -self._charging_a
        state.balancing_active = balancing
        state.bleed_currents_a = bleed
        state.cell_voltages_v = cells
        state.max_cell_v, state.min_cell_v = v_max, v_min
        state.max_cell_index, state.min_cell_index = cells.index(v_max), cells.index(v_min)
        state.max_temp_c, state.min_temp_c = t_max, t_min
        state.pack_current_a = current
        state.pack_voltage_v = pack_v
        state.link_voltage_v = link_v
        state.insulation_ohm = r_iso
        state.fault_active = red_active
        state.warning_active = not self._active.isdisjoint(AMBER)
        return state
