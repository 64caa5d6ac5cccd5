"""Magtrol DSP7000 dynamometer controller, as its manual describes it [manual: Magtrol Model DSP7000
Dynamometer Controller User's Manual, ch. 7]. Not SCPI: one upper-case command per CR-LF line, a
command word then comma-separated values (§7.4, p. 74). No error queue: a command it does not
recognise gets no reply, only "I/O ERROR" on the front panel's status display (p. 74), kept here in
``front_panel``; faults are read from the 32 ``STAT`` flags (§7.4.7, p. 83), answered in hexadecimal
[unverified: the manual gives the flags, not the notation; hexadecimal as the independent driver
tronicbaumi/eLabOrchestra/instruments/dsp7000.py reads it]. ``N1`` (speed) and the alarm commands
in their channel form follow that driver; a value it cannot take is ignored as an unknown command
is [E]."""

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


# the STAT flag of each alarm channel 1 latches [manual: DSP7000 §7.4.7, p. 83]; an alarm raised from
# outside the controller's own limits (an injected fault) shows as external alarm 1
_STAT_FLAGS = {"external": 4, "speed": 23, "torque": 25, "power": 27}
IO_ERROR = "I/O ERROR"


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
        self.front_panel = ""  # the status display's message: I/O ERROR after a command it did not know
        self._commands: dict[str, Callable[[list[float]], str | None]] = {
            "OD1": self._reading,
            "STAT": self._status,
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
        word = word.strip()  # upper case only (§7.4): "od1" is as unknown as any other word
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
                self.front_panel = IO_ERROR
                log.info("%s ignored %r (%d): %s on the front panel", self.name, command, error, IO_ERROR)
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
        self.physics.rearm()

    def _status(self, values: list[float]) -> str:
        if values:
            raise _Ignored(-108)
        causes = self.physics.alarm_causes or ({"external"} if self.physics.alarm else set())
        return f"{sum(1 << _STAT_FLAGS[cause] for cause in causes):08X}"

    def _reading(self, values: list[float]) -> str:
        speed = self.simulation.plant.speed_rpm
        torque = self.physics.torque_nm
        if self.physics.alarm:
            # the flag replaces the direction letter, so the speed keeps its sign
            return f"S{speed:.1f}T{torque:.2f}A"
        return f"S{abs(speed):.1f}T{torque:.2f}{'L' if speed < 0 else 'R'}"
