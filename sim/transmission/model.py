"""The automatic transmission: a clutchless AMT whose input shaft is the traction motor's shaft.

Shift decision (TCU firmware): one gear at a time along the schedule (schedule.py) by vehicle
speed (from the output shaft) and throttle; no two shift starts closer than
``min_shift_interval``; no upshift while braking, nor at high throttle while the bus hardly
accelerates (grade hold: the TCU sees no grade, only the acceleration it derives from the output
shaft speed); a kick-down (fast throttle step to near full) commands, after
``kickdown_latency``, the lowest gear that keeps the motor below ``kickdown_max_motor_speed``,
dwell or not; an upshift is forced, whatever else, when the motor reaches ``upshift_overspeed``.

Shift execution (AMT without clutch, reference §1.6 [S]): torque request ramped to zero
(``torque_scale`` 1 -> 0), old gear out to neutral, the drive controls the motor speed to the
new gear's speed (``speed_control_request``, ``motor_speed_target_rad_s``), engagement once the
error is inside ``sync_tolerance``, with the motor torque-free while the actuator moves the dog
clutch in (the teeth meet at whatever speed difference the synchronisation left [E]), torque
ramped back (0 -> 1). A synchronisation that times out
sets ``synchronisation_failed`` and retries the gear it came from, then the new one, alternating,
until one engages.

Timing: ``step(dt_s, inputs)`` advances from t to t + dt_s; the inputs are the plant's values at
t + dt_s and the model interpolates linearly from the previous step's inputs, so a shift command,
a synchronisation or a fault carries its exact time inside the step. Phase ends are timed from
those exact instants, so a shift lasts what its parameters say to well under one step.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from sim.transmission.faults import Event
from sim.transmission.schedule import MAX_GEARS, ShiftSchedule

NEUTRAL = 0


class Phase(IntEnum):
    ENGAGED = 0  # no shift in process
    TORQUE_DOWN = 1
    DISENGAGE = 2
    SYNC = 3
    ENGAGE = 4
    TORQUE_UP = 5


@dataclass(slots=True)
class TransmissionInputs:
    """The plant's values at the end of the step.

    throttle_fraction: accelerator pedal, 0..1. output_shaft_speed_rad_s: gearbox output shaft
    (before the final drive), forward positive. motor_speed_rad_s: motor = input shaft speed.
    brake: service brake pressed (no upshift while braking).
    """

    throttle_fraction: float
    output_shaft_speed_rad_s: float
    motor_speed_rad_s: float
    brake: bool = False


@dataclass(slots=True)
class TransmissionState:
    """What the transmission shows after a step. One live object, updated in place.

    selected_gear: the gear commanded (J1939 SPN 524); 0 = neutral. current_gear: the gear
    engaged (SPN 523); 0 while in neutral during a shift. gear_ratio: input/output speed as
    measured (SPN 526), the engaged gear's ratio when the output shaft is too slow to measure.
    torque_scale: 0..1, the factor the drive applies to its torque request. speed_control_request:
    the drive must bring the motor to motor_speed_target_rad_s (synchronisation only).
    vehicle_accel_m_s2: the TCU's filtered estimate. brake: the brake input, as received.
    sync_error_at_engagement_rad_s: motor minus
    target speed when the last engagement began (signed).
    """

    t_s: float
    selected_gear: int
    current_gear: int
    phase: Phase = Phase.ENGAGED
    shift_in_process: bool = False
    torque_scale: float = 1.0
    speed_control_request: bool = False
    motor_speed_target_rad_s: float = 0.0
    gear_ratio: float = 0.0
    output_shaft_speed_rad_s: float = 0.0
    input_shaft_speed_rad_s: float = 0.0
    vehicle_speed_m_s: float = 0.0
    vehicle_accel_m_s2: float = 0.0
    sync_error_at_engagement_rad_s: float = 0.0
    brake: bool = False

    @property
    def driveline_engaged(self) -> bool:
        return self.current_gear != NEUTRAL


def _crossing_time(t0: float, dt: float, x0: float, x1: float, level: float) -> float:
    """When the linear x(t) from (t0, x0) to (t0 + dt, x1) reaches ``level`` (t0 + dt if flat)."""
    if x1 == x0:
        return t0 + dt
    s = (level - x0) / (x1 - x0)
    return t0 + dt * min(1.0, max(0.0, s))


class Transmission:
    """The AMT model. ``params`` is the ``transmission`` section in SI (see the golden YAML)."""

    def __init__(self, params: Mapping[str, float], *, initial_gear: int = 1, t0_s: float = 0.0) -> None:
        p = params
        gear_count = p["gear_count"]
        if gear_count != round(gear_count) or not 2 <= gear_count <= MAX_GEARS:
            raise ValueError(
                f"transmission.gear_count must be a whole number 2..{MAX_GEARS}, got {gear_count:g}"
            )
        n = self.gear_count = int(gear_count)
        ratios = [p[f"ratio_{g}"] for g in range(1, n + 1)]
        if any(a <= b for a, b in itertools.pairwise(ratios)):
            raise ValueError(f"transmission.ratio_1..ratio_{n} must decrease, got {ratios}")
        if not 1 <= initial_gear <= n:
            raise ValueError(f"initial_gear must be 1..{n}, got {initial_gear}")
        self.ratios: tuple[float, ...] = (0.0, *ratios)  # index = gear; 0 = neutral
        self.schedule = ShiftSchedule(p, n)
        # m/s of vehicle speed per rad/s of output shaft
        self.vehicle_speed_per_output_rad_s = p["wheel_radius"] / p["final_drive_ratio"]

        self._min_interval = p["min_shift_interval"]
        self._down_max_motor = p["downshift_max_motor_speed"]
        self._overspeed = p["upshift_overspeed"]
        self._grade_throttle = p["grade_hold_throttle"]
        self._grade_min_accel = p["grade_hold_min_accel"]
        self._accel_tau = p["accel_filter_time_constant"]
        self._kd_throttle = p["kickdown_throttle"]
        self._kd_from = p["kickdown_from_throttle"]
        self._kd_window = p["kickdown_window"]
        self._kd_latency = p["kickdown_latency"]
        self._kd_max_motor = p["kickdown_max_motor_speed"]
        self._ramp_down = p["torque_ramp_down_time"]
        self._disengage = p["disengage_time"]
        self._sync_tol = p["sync_tolerance"]
        self._sync_timeout = p["sync_timeout"]
        self._engage = p["engage_time"]
        self._ramp_up = p["torque_ramp_up_time"]
        self._shift_timeout = p["shift_timeout"]
        self._ratio_tol = p["ratio_check_tolerance"]
        self._ratio_delay = p["ratio_check_delay"]
        self._ratio_min_speed = p["ratio_min_output_speed"]
        offset = p["etc2_gear_offset"]
        if offset != round(offset):
            raise ValueError(f"transmission.etc2_gear_offset must be a whole number, got {offset:g}")
        self.etc2_gear_offset = int(offset)

        self.state = TransmissionState(t_s=t0_s, selected_gear=initial_gear, current_gear=initial_gear)
        self.state.gear_ratio = self.ratios[initial_gear]
        self.events: list[Event] = []
        self.active_faults: frozenset[str] = frozenset()

        self._gear = initial_gear  # engaged gear, NEUTRAL while out of gear
        self._from = initial_gear
        self._target = self._first_target = initial_gear
        self._phase = Phase.ENGAGED
        self._phase_start = t0_s
        self._shift_start = -math.inf
        self._shift_name = ""
        self._timeout_flagged = False
        self._idle_since = t0_s
        self._first = True
        self._w_out = 0.0
        self._w_m = 0.0
        self._accel = 0.0
        self._t_low_throttle = -math.inf
        self._kickdown_due: float | None = None
        self._ratio_rel_prev = 0.0
        self._implausible_since: float | None = None

    # ---------------------------------------------------------------- step

    def step(self, dt_s: float, inputs: TransmissionInputs) -> TransmissionState:
        st = self.state
        t0 = st.t_s
        t1 = t0 + dt_s
        thr = inputs.throttle_fraction
        w_out1 = inputs.output_shaft_speed_rad_s
        w_m1 = inputs.motor_speed_rad_s
        if self._first:
            self._first = False
            self._w_out, self._w_m = w_out1, w_m1
        w_out0, w_m0 = self._w_out, self._w_m
        k = self.vehicle_speed_per_output_rad_s
        v0, v1 = w_out0 * k, w_out1 * k

        self._accel += ((v1 - v0) / dt_s - self._accel) * dt_s / (self._accel_tau + dt_s)

        if thr <= self._kd_from:
            self._t_low_throttle = t1
        elif thr >= self._kd_throttle and t1 - self._t_low_throttle <= self._kd_window:
            self._t_low_throttle = -math.inf  # one kick-down per throttle step
            self._kickdown_due = t1 + self._kd_latency
            self.events.append(Event(t1, "kickdown", "detect"))

        if self._phase is Phase.ENGAGED:
            self._decide(t0, t1, v0, v1, w_out0, w_out1, thr, inputs.brake)
        if self._phase is not Phase.ENGAGED:
            self._advance_shift(t0, t1, w_out0, w_out1, w_m0, w_m1)
        self._check_ratio(t0, dt_s, w_out1, w_m1)

        phase = self._phase
        if phase is Phase.ENGAGED:
            scale = 1.0
        elif phase is Phase.TORQUE_DOWN:
            scale = max(0.0, 1.0 - (t1 - self._phase_start) / self._ramp_down)
        elif phase is Phase.TORQUE_UP:
            scale = min(1.0, (t1 - self._phase_start) / self._ramp_up)
        else:
            scale = 0.0
        st.t_s = t1
        st.phase = phase
        st.current_gear = self._gear
        st.selected_gear = self._target
        st.shift_in_process = phase is not Phase.ENGAGED
        st.torque_scale = scale
        st.speed_control_request = phase is Phase.SYNC
        st.motor_speed_target_rad_s = w_out1 * self.ratios[self._target]
        st.gear_ratio = (
            w_m1 / w_out1 if w_out1 > self._ratio_min_speed else self.ratios[self._gear or self._target]
        )
        st.output_shaft_speed_rad_s = w_out1
        st.input_shaft_speed_rad_s = w_m1
        st.vehicle_speed_m_s = v1
        st.vehicle_accel_m_s2 = self._accel
        st.brake = inputs.brake
        self._w_out, self._w_m = w_out1, w_m1
        return st

    # ---------------------------------------------------------------- shift decision

    def _decide(
        self,
        t0: float,
        t1: float,
        v0: float,
        v1: float,
        w_out0: float,
        w_out1: float,
        thr: float,
        brake: bool,
    ) -> None:
        g = self._gear
        ratios = self.ratios
        earliest = max(t0, self._idle_since)

        due = self._kickdown_due
        if due is not None and due <= t1:
            self._kickdown_due = None
            if thr >= self._kd_throttle:
                for lower in range(1, g):
                    if w_out1 * ratios[lower] <= self._kd_max_motor:
                        self._begin_shift(max(due, earliest), lower)
                        return

        if g < self.gear_count and w_out1 * ratios[g] >= self._overspeed:
            t_c = _crossing_time(t0, t1 - t0, w_out0 * ratios[g], w_out1 * ratios[g], self._overspeed)
            self._begin_shift(max(t_c, earliest), g + 1)
            return

        dwell_end = self._shift_start + self._min_interval
        if dwell_end > t1:
            return
        sched = self.schedule
        if (
            g < self.gear_count
            and not brake
            and not (thr >= self._grade_throttle and self._accel < self._grade_min_accel)
        ):
            line = sched.upshift_speed(g, thr)
            if v1 >= line:
                self._begin_shift(self._condition_time(t0, t1, v0, v1, line, v0 < line, dwell_end), g + 1)
                return
        if g > 1 and w_out1 * ratios[g - 1] <= self._down_max_motor:
            line = sched.downshift_speed(g, thr)
            if v1 <= line:
                self._begin_shift(self._condition_time(t0, t1, v0, v1, line, v0 > line, dwell_end), g - 1)

    def _condition_time(
        self, t0: float, t1: float, v0: float, v1: float, line: float, crossed: bool, dwell_end: float
    ) -> float:
        """When a schedule condition true at t1 took effect: the interpolated line crossing, else the
        end of the dwell if that fell in this step, else t1 (a throttle change or a released hold)."""
        if crossed:
            t_c = _crossing_time(t0, t1 - t0, v0, v1, line)
        elif dwell_end > t0:
            t_c = dwell_end
        else:
            t_c = t1
        return max(t_c, dwell_end, self._idle_since)

    # ---------------------------------------------------------------- shift execution

    def _begin_shift(self, t: float, target: int) -> None:
        self._from = self._gear
        self._target = self._first_target = target
        self._shift_start = t
        self._timeout_flagged = False
        self._shift_name = f"shift_{self._from}_{target}"
        self._kickdown_due = None
        self._enter(Phase.TORQUE_DOWN, t)
        self.events.append(Event(t, self._shift_name, "start"))

    def _enter(self, phase: Phase, t: float) -> None:
        self._phase = phase
        self._phase_start = t

    def _advance_shift(
        self, t0: float, t1: float, w_out0: float, w_out1: float, w_m0: float, w_m1: float
    ) -> None:
        t_timeout = self._shift_start + self._shift_timeout
        while True:
            phase, ps = self._phase, self._phase_start
            if phase is Phase.TORQUE_DOWN:
                end = ps + self._ramp_down
                if end > t1:
                    break
                self._enter(Phase.DISENGAGE, end)
            elif phase is Phase.DISENGAGE:
                end = ps + self._disengage
                if end > t1:
                    break
                self._gear = NEUTRAL
                self.events.append(Event(end, self._shift_name, "neutral"))
                self._enter(Phase.SYNC, end)
            elif phase is Phase.SYNC:
                if not self._advance_sync(t0, t1, w_out0, w_out1, w_m0, w_m1):
                    break
            elif phase is Phase.ENGAGE:
                end = ps + self._engage
                if end > t1:
                    break
                self._gear = self._target
                self.events.append(Event(end, self._shift_name, "engaged"))
                self._enter(Phase.TORQUE_UP, end)
            else:  # TORQUE_UP
                end = ps + self._ramp_up
                if end > t1:
                    break
                if not self._timeout_flagged and t_timeout < end:
                    self._set_fault("shift_timeout", t_timeout)
                self.events.append(Event(end, self._shift_name, "end"))
                self._clear_fault("synchronisation_failed", end)
                self._clear_fault("shift_timeout", end)
                self._idle_since = end
                self._enter(Phase.ENGAGED, end)
                return
        if not self._timeout_flagged and t_timeout <= t1:  # still in process at t_timeout
            self._timeout_flagged = True
            self._set_fault("shift_timeout", t_timeout)

    def _advance_sync(
        self, t0: float, t1: float, w_out0: float, w_out1: float, w_m0: float, w_m1: float
    ) -> bool:
        """Advance the synchronisation; True if it ended inside this step (engaged or retargeted)."""
        ps = self._phase_start
        ratio = self.ratios[self._target]
        tol = self._sync_tol
        deadline = ps + self._sync_timeout
        e1 = w_m1 - w_out1 * ratio
        if -tol < e1 < tol:
            e0 = w_m0 - w_out0 * ratio
            if -tol < e0 < tol:
                t_sync = max(t0, ps)
            else:
                t_sync = max(_crossing_time(t0, t1 - t0, e0, e1, tol if e0 > 0 else -tol), ps)
            if t_sync <= deadline:
                s = (t_sync - t0) / (t1 - t0)
                self.state.sync_error_at_engagement_rad_s = e0 + (e1 - e0) * s
                self.events.append(Event(t_sync, self._shift_name, "synchronised"))
                self._enter(Phase.ENGAGE, t_sync)
                return True
        if deadline <= t1:
            self._set_fault("synchronisation_failed", deadline)
            self._target = self._from if self._target != self._from else self._first_target
            self._shift_name = f"shift_{self._from}_{self._target}"
            self.events.append(Event(deadline, self._shift_name, "retarget"))
            self._enter(Phase.SYNC, deadline)
            return True
        return False

    # ---------------------------------------------------------------- monitors

    def _check_ratio(self, t0: float, dt: float, w_out1: float, w_m1: float) -> None:
        if self._phase is not Phase.ENGAGED or w_out1 <= self._ratio_min_speed:
            self._implausible_since = None
            self._ratio_rel_prev = 0.0
            return
        expected = w_out1 * self.ratios[self._gear]
        rel = abs(w_m1 - expected) / expected
        rel0, tol = self._ratio_rel_prev, self._ratio_tol
        self._ratio_rel_prev = rel
        if rel > tol:
            if self._implausible_since is None:
                self._implausible_since = _crossing_time(t0, dt, rel0, rel, tol) if rel0 <= tol else t0 + dt
            t_set = self._implausible_since + self._ratio_delay
            if t_set <= t0 + dt:
                self._set_fault("gear_ratio_implausible", t_set)
        else:
            self._implausible_since = None
            if rel0 > tol:
                self._clear_fault("gear_ratio_implausible", _crossing_time(t0, dt, rel0, rel, tol))

    def _set_fault(self, name: str, t: float) -> None:
        if name not in self.active_faults:
            self.active_faults = self.active_faults | {name}
            self._insert_event(Event(t, name, "set"))

    def _clear_fault(self, name: str, t: float) -> None:
        if name in self.active_faults:
            self.active_faults = self.active_faults - {name}
            self._insert_event(Event(t, name, "clear"))

    def _insert_event(self, event: Event) -> None:
        """Fault events may be found after later shift events of the same step: keep time order."""
        bisect.insort(self.events, event, key=lambda e: e.t_s)
