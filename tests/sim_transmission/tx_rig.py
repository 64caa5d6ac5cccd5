"""A test-local rig around the transmission: a kinematic vehicle and a motor that synchronises.

The real vehicle and drive models belong to the framework and the other subsystems; this one is
just enough to exercise the transmission. The vehicle's acceleration is whatever the test says
(a function of time, throttle and the transmission's torque_scale). The motor is rigidly tied to
the output shaft while a gear is engaged (times ``1 + ratio_error``, to fake a slipping gear) and
free in neutral, where it follows the speed target with a torque-limited proportional speed
controller on the rotor inertia when the transmission requests speed control and ``motor_follows``
says the drive obeys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.transmission import NEUTRAL, Event, Transmission, TransmissionInputs, golden_parameters

KMH = 1 / 3.6  # m/s per km/h
RPM = np.pi / 30  # rad/s per rpm

ROTOR_INERTIA_KG_M2 = 0.4  # reference §4.2 [E]
SYNC_TORQUE_NM = 300.0  # what the drive spends on synchronisation, a third of peak torque [E]
SPEED_LOOP_TIME_CONSTANT_S = 0.01  # the drive's speed loop in neutral [E]

AccelFn = Callable[[float, float, float], float]  # (t_s, throttle, torque_scale) -> m/s^2
ValueFn = Callable[[float], float]


def constant(value: float) -> ValueFn:
    return lambda _t: value


def params(**overrides: float) -> dict[str, float]:
    """Golden parameters in SI with overrides (SI too)."""
    p = golden_parameters()
    unknown = set(overrides) - set(p)
    assert not unknown, f"unknown transmission parameters {unknown}"
    return {**p, **overrides}


@dataclass
class Trace:
    t: np.ndarray
    v_kmh: np.ndarray
    throttle: np.ndarray
    selected: np.ndarray
    current: np.ndarray
    shift: np.ndarray
    torque_scale: np.ndarray
    motor_rpm: np.ndarray
    output_rad_s: np.ndarray
    ratio: np.ndarray
    phase: np.ndarray
    events: list[Event]

    def __add__(self, later: Trace) -> Trace:
        """This trace followed by a later one of the same rig."""
        arrays = {f: np.concatenate((getattr(self, f), getattr(later, f))) for f in _ARRAY_FIELDS}
        return Trace(**arrays, events=self.events + later.events)

    def first_time(self, mask: np.ndarray) -> float:
        idx = np.flatnonzero(mask)
        assert idx.size, "condition never met in the trace"
        return float(self.t[idx[0]])

    def shift_windows(self) -> list[tuple[float, float]]:
        """(set, clear) times of shift_in_process as a sampled signal (ETC1 SPN 574)."""
        s = self.shift.astype(np.int8)
        edges = np.diff(s)
        sets = self.t[1:][edges == 1]
        clears = self.t[1:][edges == -1]
        assert len(sets) == len(clears), "a shift still in process at the end of the trace"
        return list(zip(sets.tolist(), clears.tolist(), strict=True))

    def events_of(self, kind: str, prefix: str = "shift_") -> list[Event]:
        return [e for e in self.events if e.kind == kind and e.name.startswith(prefix)]


_NO_RATIO_ERROR = constant(0.0)
_ARRAY_FIELDS = [f for f in Trace.__dataclass_fields__ if f != "events"]


class Rig:
    def __init__(
        self, p: Mapping[str, float] | None = None, *, gear: int = 1, v_kmh: float = 0.0, dt_s: float = 1e-3
    ) -> None:
        self.tx = Transmission(p if p is not None else golden_parameters(), initial_gear=gear)
        self.dt_s = dt_s
        self.t = 0.0
        self.v = v_kmh * KMH
        self.k = self.tx.vehicle_speed_per_output_rad_s
        self.w_m = self.v / self.k * self.tx.ratios[gear]

    def run(
        self,
        duration_s: float,
        accel: AccelFn,
        throttle: ValueFn,
        *,
        brake: bool = False,
        motor_follows: Callable[[float], bool] = lambda _t: True,
        ratio_error: ValueFn = _NO_RATIO_ERROR,
        until: Callable[[float, float], bool] | None = None,
    ) -> Trace:
        """Step for ``duration_s`` (or until ``until(t, v_kmh)``); returns what happened."""
        tx, dt, st = self.tx, self.dt_s, self.tx.state
        ratios = tx.ratios
        inertia, limit = ROTOR_INERTIA_KG_M2, SYNC_TORQUE_NM
        kp = inertia / SPEED_LOOP_TIME_CONSTANT_S
        rows = []
        n_events = len(tx.events)
        t_end = self.t + duration_s
        while self.t < t_end - dt / 2:
            t1 = self.t + dt
            thr = throttle(t1)
            self.v = max(0.0, self.v + accel(self.t, thr, st.torque_scale) * dt)
            w_out = self.v / self.k
            if st.current_gear != NEUTRAL:
                self.w_m = w_out * ratios[st.current_gear] * (1.0 + ratio_error(t1))
            elif st.speed_control_request and motor_follows(t1):
                torque = min(limit, max(-limit, kp * (w_out * ratios[st.selected_gear] - self.w_m)))
                self.w_m += torque / inertia * dt
            tx.step(dt, TransmissionInputs(thr, w_out, self.w_m, brake))
            self.t = t1
            rows.append(
                (
                    t1,
                    self.v / KMH,
                    thr,
                    st.selected_gear,
                    st.current_gear,
                    st.shift_in_process,
                    st.torque_scale,
                    self.w_m / RPM,
                    w_out,
                    st.gear_ratio,
                    int(st.phase),
                )
            )
            if until is not None and until(t1, self.v / KMH):
                break
        cols = list(zip(*rows, strict=True))
        return Trace(*(np.asarray(c) for c in cols), events=tx.events[n_events:])


def per_throttle(table: Mapping[float, float]) -> AccelFn:
    """Drive acceleration looked up by throttle, scaled by torque_scale (torque interruption)."""
    return lambda _t, thr, scale: table[thr] * scale
