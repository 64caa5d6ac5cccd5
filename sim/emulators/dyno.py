"""Magtrol DSP7000 dynamometer controller. Not SCPI: one upper-case command per CR-LF line, a
command word then comma-separated values, no error queue; an unknown command is ignored, as the
controller does, and only the command log shows it (reference §6.4)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from sim.emulators.base import Emulator
from sim.plant.dyno import DynoModel, DynoRating, DynoTuning
from sim.profile import Profile

log = logging.getLogger("sim.emulators.dyno")

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


class _Ignored(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class Dsp7000Emulator(Emulator):
    driver = "magtrol.dsp7000"
    kind = "dyno"
    plant_slot = "dyno"
    DEFAULT_MODEL = "DSP7000-AC250"
    manufacturer = "Magtrol"
    firmware = "7.02-SIM"
    terminator = b"\r\n"
    MODELS = {"DSP7000-AC250": DynoRating(speed_rpm=8000.0, torque_nm=1500.0, power_kw=250.0)}
    physics: DynoModel

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        d = profile["dyno"]
        tuning = DynoTuning(
            float(d["speed_kp_nm_per_rad_s"]),
            float(d["speed_ki_nm_per_rad"]),
            float(d["torque_time_constant_s"]),
        )
        return DynoModel(cls.rating_of(model), tuning)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        d, r = self.physics, self.rating
        self._commands: dict[str, Callable[[list[float]], str | None]] = {
            "OD": self._reading,
            "OD1": self._reading,
            "Q1": lambda v: d.hold_torque(self._value(v, r.torque_nm)) if v else d.free_run(),
            "N1": lambda v: d.hold_speed(self._value(v, r.speed_rpm)) if v else d.free_run(),
            "ALS1": lambda v: setattr(d, "alarm_speed_rpm", self._value(v, r.speed_rpm, required=True)),
            "ALT1": lambda v: setattr(d, "alarm_torque_nm", self._value(v, r.torque_nm, required=True)),
            "ALP1": lambda v: setattr(d, "alarm_power_kw", self._value(v, r.power_kw, required=True)),
            "ALL1": self._enable_alarms,
        }

    def handle(self, line: str) -> bytes | None:
        command = line.strip()
        if not command:
            return None
        word, _, rest = command.partition(",")
        word = word.strip().upper()
        args = [a.strip() for a in rest.split(",")] if rest else []
        error, reply = 0, None
        with self.simulation.now():
            try:
                if word == "*IDN?":
                    reply = self.identity
                elif word in self._commands:
                    reply = self._commands[word]([self._parse(a) for a in args])
                else:
                    raise _Ignored(-113)
            except _Ignored as ignored:
                error = ignored.code
                log.info("%s ignored %r (%d)", self.name, command, error)
        self.log.record(self.name, command, word, args, error)
        return reply.encode("ascii") if reply is not None else None

    @staticmethod
    def _parse(text: str) -> float:
        if not _NUMBER.match(text):
            raise _Ignored(-104)
        return float(text)

    @staticmethod
    def _value(values: list[float], limit: float, required: bool = False) -> float:
        if required and not values:
            raise _Ignored(-109)
        if len(values) != 1:
            raise _Ignored(-108)
        if abs(values[0]) > limit:
            raise _Ignored(-222)
        return values[0]

    def _enable_alarms(self, values: list[float]) -> None:
        enabled = self._value(values, 1.0, required=True) == 1.0
        self.physics.alarms_enabled = enabled
        # (re-)enabling re-arms: the alarm flag latches until then
        self.physics.alarm = False

    def _reading(self, values: list[float]) -> str:
        speed = self.simulation.plant.speed_rpm
        torque = self.physics.torque_nm
        if self.physics.alarm:
            # the flag replaces the direction letter, so the speed keeps its sign
            return f"S{speed:.1f}T{torque:.2f}A"
        return f"S{abs(speed):.1f}T{torque:.2f}{'L' if speed < 0 else 'R'}"
