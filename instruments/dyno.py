"""Dynamometer controller: the load machine on the output shaft, in speed or torque control.

Command family: Magtrol DSP7000, not SCPI: upper-case ASCII, one command per line, CR-LF; a command
it does not recognise gets no reply, only "I/O ERROR" on its front panel [manual: Magtrol Model
DSP7000 Dynamometer Controller User's Manual, §7.4 "DSP7000 command set", p. 74]. It has no error
queue: faults are read from its ``STAT`` status flags [same, §7.4.7, p. 83]. Channel 1 throughout.

Sources: the manual (pages read in transcriptions of §7.2.1 p. 71, §7.4 p. 74, §7.4.2 p. 76, §7.4.6
p. 81, §7.4.7 pp. 82-83; its speed and alarm command pages were not found) and an independent
driver for a lab's DSP7000 over RS-232 [impl: tronicbaumi/eLabOrchestra/instruments/dsp7000.py],
which sends the speed and alarm commands in the channel form used here. The alarm commands' meaning
and ranges are the DSP6001's [manual: Magtrol Model DSP6001 Dynamometer Controller User's Manual,
§8.6.1 "Alarm commands", p. 69].
"""

from __future__ import annotations

import re
from abc import abstractmethod
from dataclasses import dataclass

from instruments.base import Identity, Instrument, action, protecting, reading, setter
from instruments.errors import InstrumentReportedError, InstrumentTimeout, MalformedReply, OutOfRating


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


_HEX_FLAGS = re.compile(r"^[0-9A-Fa-f]{1,8}$")
_OD = re.compile(r"^S\s*(-?\d+(?:\.\d*)?)\s*T\s*(-?\d+(?:\.\d*)?)\s*([RLA])$")

# STAT flags that mean channel 1, or the controller as a whole, is in alarm [manual: DSP7000 User's
# Manual, §7.4.7, p. 83]; the others report boards fitted, ramps complete, the 6001/7000 mode input
# and channel 2's alarms (another dyno's, if one is fitted)
_ALARM_FLAGS = (
    (4, "external alarm 1"),
    (8, "electrical alarm 1"),
    (10, "water alarm 1"),
    (12, "temperature alarm 1"),
    (14, "airflow alarm 1"),
    (16, "alarm contact 1"),
    (23, "speed alarm 1"),
    (25, "torque alarm 1"),
    (27, "power alarm 1"),
    (29, "global power alarm"),
    (30, "global torque alarm"),
)


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
    UNVERIFIED = ("STAT",)

    def set_speed(self, speed_rpm: float) -> None:
        self.check_rating("speed_rpm", speed_rpm, "speed_rpm")
        self.write(f"N1,{speed_rpm:.1f}")  # [impl: tronicbaumi/eLabOrchestra/instruments/dsp7000.py]

    def set_torque(self, torque_nm: float) -> None:
        self.check_rating("torque_nm", torque_nm, "torque_nm")
        self.write(f"Q1,{torque_nm:.2f}")  # set point, brake on [manual: DSP7000 §7.4.6, p. 81]

    def free_run(self) -> None:
        # a bare N1 releases speed control [impl: tronicbaumi/eLabOrchestra/instruments/dsp7000.py]:
        # Q1 alone would leave a speed set point holding the shaft
        self.write("N1")
        self.write("Q1")  # torque 0, torque mode off, brake off [manual: DSP7000 §7.4.6, p. 81]

    def program_alarms(self, speed_rpm: float, torque_nm: float, power_kw: float) -> None:
        for rating, value in (("speed_rpm", speed_rpm), ("torque_nm", torque_nm), ("power_kw", power_kw)):
            self.check_rating(rating, value, f"alarm {rating}")
            if value < 0:  # a maximum, 0 to 99 999 [manual: DSP6001 §8.6.1, p. 69]
                raise OutOfRating(
                    self.name, self.resource_name, f"alarm {rating}={value:g} is not a magnitude"
                )
        # [impl: tronicbaumi/eLabOrchestra/instruments/dsp7000.py] for the channel form of all four
        self.write(f"ALS1,{speed_rpm:.0f}")  # rpm [manual: DSP6001 §8.6.1, p. 69]
        self.write(f"ALT1,{torque_nm:.2f}")  # torque in the controller's units [same]
        self.write(f"ALP1,{power_kw:.2f}")  # kW [same]
        self.write("ALL1,1")  # enable all alarms [same]

    def read(self) -> DynoReading:
        return self.query_value("OD1", _reading)  # [manual: DSP7000 §7.2.1, p. 71 and §7.4.2, p. 76]

    def identify(self) -> Identity:
        # "returns Magtrol identification and software revision" [manual: DSP7000 §7.4.2, p. 76], in no
        # layout the manual shows: a reply that is not the four IEEE 488.2 fields is taken whole
        reply = self.query("*IDN?")
        try:
            return Identity.parse(reply)
        except ValueError:
            if "MAGTROL" not in reply.upper():
                raise MalformedReply(
                    self.name, self.resource_name, f"*IDN? reply {reply!r} does not name Magtrol"
                ) from None
            return Identity("Magtrol", reply, "not reported", reply)

    def check_errors(self) -> None:
        """No error queue: the alarm flags of ``STAT`` raise, named. The flags are read as hexadecimal
        [unverified: the manual lists the 32 flags, not the reply's notation; hexadecimal as
        tronicbaumi/eLabOrchestra/instruments/dsp7000.py reads it]."""
        command = self.last_command
        flags = self.query_value("STAT", _flags)
        self.last_command = command
        raised = [(bit, text) for bit, text in _ALARM_FLAGS if flags >> bit & 1]
        if raised:
            raise InstrumentReportedError(self.name, self.resource_name, command, raised, "STAT alarm flags")

    def query(self, command: str) -> str:
        try:
            return super().query(command)
        except InstrumentTimeout as exc:
            raise InstrumentTimeout(
                self.name,
                self.resource_name,
                f"{exc.detail}: the DSP7000 does not answer a command it does not recognise "
                "(its front panel shows I/O ERROR)",
            ) from exc


def _flags(reply: str) -> int:
    if not _HEX_FLAGS.match(reply):
        raise ValueError("not 32 flags in hexadecimal")
    return int(reply, 16)


def _reading(reply: str) -> DynoReading:
    match = _OD.match(reply)
    if match is None:
        raise ValueError("not S<speed>T<torque><R|L|A>")
    speed, torque, flag = float(match.group(1)), float(match.group(2)), match.group(3)
    if flag == "L":
        speed = -abs(speed)
    direction = "CCW" if speed < 0 else "CW"
    return DynoReading(speed_rpm=speed, torque_nm=torque, direction=direction, alarm=flag == "A")
