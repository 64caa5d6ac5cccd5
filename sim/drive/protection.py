"""Protections: thresholds crossed inside a step at an interpolated instant, trip delays measured
from that instant, latching trips that turn PWM off until their reset condition holds and a reset
is given, and the non-latching warnings and torque inhibits (INV-01/02/04/12/15/16)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from sim.drive.faults import Event


def crossing_up(t0: float, t1: float, x0: float, x1: float, level: float) -> float | None:
    """The instant x rose through ``level`` (x0 < level ≤ x1), linear inside the step."""
    if x0 < level <= x1:
        return t0 + (t1 - t0) * (level - x0) / (x1 - x0)
    return None


def crossing_down(t0: float, t1: float, x0: float, x1: float, level: float) -> float | None:
    if x0 > level >= x1:
        return t0 + (t1 - t0) * (x0 - level) / (x0 - x1)
    return None


@dataclass(frozen=True)
class Thresholds:
    """The ``protection`` section plus the figures it is relative to (SI, °C)."""

    ov_warn: float
    ov_warn_clear: float
    ov_trip: float
    ov_trip_delay: float
    ov_hw_trip: float
    ov_hw_delay: float
    ov_reset: float
    uv_trip: float
    uv_trip_delay: float
    uv_reset: float
    ready_voltage: float
    oc_trip_pk: float
    oc_trip_delay: float
    heatsink_trip: float
    heatsink_reset: float
    winding_trip: float
    winding_reset: float
    overspeed: float
    overspeed_clear: float
    command_timeout: float

    @classmethod
    def from_section(
        cls, protection: Mapping[str, float], max_speed: float, current_max_pk: float
    ) -> Thresholds:
        p = protection
        return cls(
            ov_warn=p["overvoltage_warning"],
            ov_warn_clear=p["overvoltage_warning"] - p["overvoltage_warning_hysteresis"],
            ov_trip=p["overvoltage_trip"],
            ov_trip_delay=p["overvoltage_trip_delay"],
            ov_hw_trip=p["overvoltage_hardware_trip"],
            ov_hw_delay=p["overvoltage_hardware_delay"],
            ov_reset=p["overvoltage_reset"],
            uv_trip=p["undervoltage_trip"],
            uv_trip_delay=p["undervoltage_trip_delay"],
            uv_reset=p["undervoltage_reset"],
            ready_voltage=p["ready_voltage"],
            oc_trip_pk=p["overcurrent_trip_ratio"] * current_max_pk,
            oc_trip_delay=p["overcurrent_trip_delay"],
            heatsink_trip=p["heatsink_trip"],
            heatsink_reset=p["heatsink_reset"],
            winding_trip=p["winding_trip"],
            winding_reset=p["winding_reset"],
            overspeed=max_speed * (1.0 + p["overspeed_margin"]),
            overspeed_clear=max_speed * (1.0 + p["overspeed_clear_margin"]),
            command_timeout=p["command_timeout"],
        )


class Sample(NamedTuple):
    """The quantities the protections watch, at one instant (a tuple: built every step)."""

    t_s: float
    dc_voltage: float
    current_sensed_pk: float
    abs_speed: float
    heatsink_c: float
    winding_c: float


class Protections:
    """Latches, pending trips and warnings; ``events`` is appended to, never reordered."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.th = thresholds
        self.latched: set[str] = set()
        self.warnings: set[str] = set()
        self.pending: dict[str, float] = {}  # fault → due instant of its trip
        self.events: list[Event] = []

    @property
    def active(self) -> frozenset[str]:
        return frozenset(self.latched | self.warnings)

    def reset(self, t_s: float, now: Sample) -> None:
        """A reset input: clear each latched fault whose condition has gone."""
        th = self.th
        allowed = {
            "dc_overvoltage": now.dc_voltage < th.ov_reset,
            "dc_overvoltage_hardware": now.dc_voltage < th.ov_reset,
            "dc_undervoltage": now.dc_voltage >= th.uv_reset,
            "phase_overcurrent": True,
            "heatsink_overtemperature": now.heatsink_c < th.heatsink_reset,
            "winding_overtemperature": now.winding_c < th.winding_reset,
        }
        for name in sorted(self.latched):
            if allowed[name]:
                self.latched.discard(name)
                self.events.append(Event(t_s, name, "clear"))

    def check(self, before: Sample, now: Sample, command_age_s: float, uv_armed: bool) -> float | None:
        """Watch the step from ``before`` to ``now``; the earliest trip instant in it, if any."""
        th = self.th
        t0, t1 = before.t_s, now.t_s
        v0, v1 = before.dc_voltage, now.dc_voltage
        self._warning("dc_overvoltage_warning", crossing_up(t0, t1, v0, v1, th.ov_warn), "warn")
        if "dc_overvoltage_warning" in self.warnings:
            self._warning("dc_overvoltage_warning", crossing_down(t0, t1, v0, v1, th.ov_warn_clear), "clear")
        self._arm(
            "dc_overvoltage", crossing_up(t0, t1, v0, v1, th.ov_trip), th.ov_trip_delay, v1 >= th.ov_trip, t1
        )
        self._arm(
            "dc_overvoltage_hardware",
            crossing_up(t0, t1, v0, v1, th.ov_hw_trip),
            th.ov_hw_delay,
            v1 >= th.ov_hw_trip,
            t1,
        )
        if uv_armed:
            self._arm(
                "dc_undervoltage",
                crossing_down(t0, t1, v0, v1, th.uv_trip),
                th.uv_trip_delay,
                v1 <= th.uv_trip,
                t1,
            )
        else:
            self.pending.pop("dc_undervoltage", None)
        i0, i1 = before.current_sensed_pk, now.current_sensed_pk
        over = crossing_up(t0, t1, i0, i1, th.oc_trip_pk)
        if over is None and min(i0, i1) >= th.oc_trip_pk:
            over = t0  # the level was lowered (a test calibration) under a current already above it
        self._arm("phase_overcurrent", over, th.oc_trip_delay, True, t1)
        h0, h1 = before.heatsink_c, now.heatsink_c
        self._arm("heatsink_overtemperature", crossing_up(t0, t1, h0, h1, th.heatsink_trip), 0.0, True, t1)
        w0, w1 = before.winding_c, now.winding_c
        self._arm("winding_overtemperature", crossing_up(t0, t1, w0, w1, th.winding_trip), 0.0, True, t1)
        s0, s1 = before.abs_speed, now.abs_speed
        self._warning("overspeed", crossing_up(t0, t1, s0, s1, th.overspeed), "set")
        if "overspeed" in self.warnings:
            self._warning("overspeed", crossing_down(t0, t1, s0, s1, th.overspeed_clear), "clear")
        if command_age_s > th.command_timeout and "command_timeout" not in self.warnings:
            self._warning("command_timeout", max(t0, t1 - (command_age_s - th.command_timeout)), "set")
        elif command_age_s <= th.command_timeout and "command_timeout" in self.warnings:
            self._warning("command_timeout", t1, "clear")
        return self._trips_due(t1)

    def _warning(self, name: str, t_s: float | None, kind: str) -> None:
        if t_s is None:
            return
        if kind == "clear":
            self.warnings.discard(name)
        else:
            self.warnings.add(name)
        self.events.append(Event(t_s, name, kind))

    def _arm(
        self, name: str, crossed_at: float | None, delay: float, still_above: bool, now_s: float
    ) -> None:
        """A trip threshold crossed at ``crossed_at`` trips after ``delay`` unless it recovers first."""
        if name in self.latched:
            return
        if crossed_at is not None and name not in self.pending:
            self.events.append(Event(crossed_at, name, "cross"))
            self.pending[name] = crossed_at + delay
        elif name in self.pending and not still_above:
            del self.pending[name]
            self.events.append(Event(now_s, name, "cancel"))

    def _trips_due(self, t1: float) -> float | None:
        first = math.inf
        for name, due in sorted(self.pending.items(), key=lambda item: item[1]):
            if due <= t1:
                del self.pending[name]
                self.latched.add(name)
                self.events.append(Event(due, name, "set"))
                first = min(first, due)
        return None if first == math.inf else first
