"""Cell-temperature emulation: a programmable resistance on each NTC sense line of the BMS, standing
in for the thermistor.

The instruments for this take a resistance, not a temperature (decade substituters, programmable
resistor modules); which temperature a resistance stands for is the NTC's curve, the framework's
business (``hil.thermistor``), as on a real bench.

Command family: IET Labs PRS-202 programmable decade resistance substituter, SCPI over IEEE-488.2,
RS-232 or Ethernet [manual: IET Labs, PRS-202 Series Operation Manual (2015), ch. 7 "Programming" and
appendix A]. One channel per unit. Its error reporting used here is the IEEE 488.2 mandatory common
``*ESR?`` [manual: IEEE Std 488.2-1992, §10.12 and §11.5.1]; the one command no source confirms is
the reply of ``SOURce:DATA?`` (``UNVERIFIED``).
"""

from __future__ import annotations

import math
from abc import abstractmethod

from instruments.base import Instrument, action, reading, setter
from instruments.errors import InstrumentReportedError, MalformedReply, OutOfRating

# IEEE 488.2-1992 §11.5.1: standard event status register bits that report an error
_ESR_ERRORS = (
    (2, "query error"),
    (3, "device-dependent error"),
    (4, "execution error"),
    (5, "command error"),
)


class ThermistorSimulator(Instrument):
    """What a test may ask of a thermistor emulator."""

    kind = "tempsim"

    @property
    @reading
    def channels(self) -> int:
        return int(self.MODELS[self.model]["channels"][1])

    @setter("resistance_ohm")
    @abstractmethod
    def set_resistance(self, channel: int, resistance_ohm: float) -> None: ...
    @action
    @abstractmethod
    def open_circuit(self, channel: int) -> None:
        """The sense line open, as a broken NTC wire."""

    @reading
    @abstractmethod
    def resistance(self, channel: int) -> float:
        """What the channel presents: ohms, ``inf`` when open."""


class Prs202(ThermistorSimulator):
    """IET Labs PRS-202 decade resistance substituter with the open/short option."""

    driver = "iet.prs202"
    MODELS = {
        # the *IDN? model field: type-version-tolerance-decades-LSD-LSD slot-options (§7.3.1);
        # 6 decades from 1 Ω: 0 to 999 999 Ω; option 3 = open and short circuit fitted [S: §7.3]
        "PRS-202-B-6-1-1-3": {"channels": (1, 1), "resistance_ohm": (0.0, 999_999.0)},
    }
    DEFAULT_MODEL = "PRS-202-B-6-1-1-3"
    UNVERIFIED = ("SOURce:DATA?",)
    _LSD_OHM = 1.0
    _LSD_INDEX = 8  # the resistance string runs from the 10^8 Ω decade to the 10^-1 Ω one (§7.2)
    _OPEN_INDEX = 2  # the decade above the most significant one selects open/short (§7.2)

    def _check_channel(self, channel: int) -> None:
        if isinstance(channel, bool) or channel != 1:
            raise OutOfRating(self.name, self.resource_name, f"channel {channel} is not 1 (one per unit)")

    def _send(self, digits: str) -> None:
        # "SOURce:DATA" and a 10-character resistance string, one character per decade [S: §7.2]
        self.write(f"SOURce:DATA {digits}")
        self.check_errors()

    def set_resistance(self, channel: int, resistance_ohm: float) -> None:
        self._check_channel(channel)
        self.check_rating("resistance_ohm", resistance_ohm, "resistance_ohm")
        steps = round(resistance_ohm / self._LSD_OHM)
        # the 10^-1 Ω decade is not fitted: its character is ignored (§7.2 example)
        self._send(f"{steps:09d}0")

    def open_circuit(self, channel: int) -> None:
        self._check_channel(channel)
        digits = ["0"] * 10
        digits[self._OPEN_INDEX] = "1"  # 1, 5 or 9 = open circuit (§7.2)
        self._send("".join(digits))

    def resistance(self, channel: int) -> float:
        self._check_channel(channel)
        # the query form of SOURce:DATA [unverified: appendix A lists the command; the reply format
        # is taken as the same 10-character string]
        reply = self.query("SOURce:DATA?")
        if len(reply) != 10 or not reply.isdigit():
            raise MalformedReply(
                self.name, self.resource_name, f"reply {reply!r} to 'SOURce:DATA?' is not 10 digits"
            )
        if reply[self._OPEN_INDEX] in "159":
            return math.inf
        if reply[self._OPEN_INDEX] in "2367":
            return 0.0
        return int(reply[self._OPEN_INDEX + 1 : self._LSD_INDEX + 1]) * self._LSD_OHM

    def check_errors(self) -> None:
        """IEEE 488.2 *ESR? (reading clears it); the PRS's error reporting beyond it is not used."""
        command = self.last_command
        esr = self.query_value("*ESR?", int)  # reads and clears [manual: IEEE Std 488.2-1992, §10.12]
        self.last_command = command
        entries = [(bit, text) for bit, text in _ESR_ERRORS if esr & (1 << bit)]
        if entries:
            raise InstrumentReportedError(self.name, self.resource_name, command, entries, "*ESR? bits")

    def reset(self) -> None:
        # IEEE 488.2 mandatory common commands [manual: IEEE Std 488.2-1992, §10.32 and §10.3]
        self.write("*RST")
        self.write("*CLS")
