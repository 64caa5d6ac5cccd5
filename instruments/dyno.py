"""Dynamometer controller: the load machine on the output shaft, in speed or torque control.

Command family: Magtrol DSP7000, not SCPI: uppercase ASCII, one command per line, CR-LF
[S: Magtrol DSP7000 manual §7.4]. ``OD1`` answers ``S<speed>T<torque><R|L|A>`` (R = CW, L = CCW,
A = alarm); ``Q1,x`` torque set point with brake on, ``Q1`` free run [S]. Speed mode ``N1,<rpm>``
and the alarm set points ``ALS1/ALT1/ALP1`` follow the DSP6001 family by analogy [R: verify].
"""

from __future__ import annotations

import re
from abc import abstractmethod
from dataclasses import dataclass

from instruments.base import Instrument, action, protecting, reading, setter


@dataclass(frozen=True)
class DynoReading:
    speed_rpm: float
    torque_nm: float
    direction: str  # "CW", "CCW"
    alarm: bool


class Dynamometer(Instrument):
    """What a test may ask of a dynamometer controller."""

    kind = "dyno"

    @setter("speed_rpm", energises=True)
    @abstractmethod
    def set_speed(self, speed_rpm: float) -> None: ...
    @setter("torque_nm", energises=True)
    @abstractmethod
    def set_torque(self, torque_nm: float) -> None: ...
    @action
    @abstractmethod
    def free_run(self) -> None: ...
    @protecting
    @abstractmethod
    def program_alarms(self, speed_rpm: float, torque_nm: float, power_kw: float) -> None: ...
    @reading
    @abstractmethod
    def read(self) -> DynoReading: ...


_OD = re.compile(r"^S\s*(-?\d+(?:\.\d*)?)\s*T\s*(-?\d+(?:\.\d*)?)\s*([RLA])$")


class DSP7000(Dynamometer):
    """Magtrol DSP7000 dynamometer controller (AC dyno drive behind it)."""

    driver = "magtrol.dsp7000"
    read_termination = "\r\n"
    write_termination = "\r\n"
    MODELS = {
        # the dyno machine behind the controller sets the rating [E: 4-quadrant AC dyno for a 200 kW drive]
        "DSP7000-AC250": {
            "speed_rpm": (-8000.0, 8000.0),
            "torque_nm": (-1500.0, 1500.0),
            "power_kw": (0, 250),
        },
    }
    DEFAULT_MODEL = "DSP7000-AC250"

    def set_speed(self, speed_rpm: float) -> None:
        self.check_rating("speed_rpm", speed_rpm, "speed_rpm")
        self.write(f"N1,{speed_rpm:.1f}")

    def set_torque(self, torque_nm: float) -> None:
        self.check_rating("torque_nm", torque_nm, "torque_nm")
        self.write(f"Q1,{torque_nm:.2f}")

    def free_run(self) -> None:
        self.write("Q1")

    def program_alarms(self, speed_rpm: float, torque_nm: float, power_kw: float) -> None:
        self.check_rating("speed_rpm", speed_rpm, "alarm speed_rpm")
        self.check_rating("torque_nm", torque_nm, "alarm torque_nm")
        self.check_rating("power_kw", power_kw, "alarm power_kw")
        self.write(f"ALS1,{speed_rpm:.0f}")
        self.write(f"ALT1,{torque_nm:.2f}")
        self.write(f"ALP1,{power_kw:.2f}")
        self.write("ALL1,1")

    def read(self) -> DynoReading:
        return self.query_value("OD1", _reading)


def _reading(reply: str) -> DynoReading:
    match = _OD.match(reply)
    if match is None:
        raise ValueError("not S<speed>T<torque><R|L|A>")
    speed, torque, flag = float(match.group(1)), float(match.group(2)), match.group(3)
    if flag == "L":
        speed = -abs(speed)
    direction = "CCW" if speed < 0 else "CW"
    return DynoReading(speed_rpm=speed, torque_nm=torque, direction=direction, alarm=flag == "A")
