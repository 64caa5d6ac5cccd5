"""Power analyzer: U/I/P/PF numerics, harmonics and waveform capture as binary blocks.

Command family: Yokogawa WT5000-style [S: WT1806E/760203 drivers, svpelab WT driver for the numeric
and list commands]; the waveform-capture headers (:WAV:SRAT/:WAV:LENG/:WAV:CAPT) are [R: verify
against the WT5000 communication manual]. The driver returns plain arrays with their metadata; the
framework wraps them in a Capture.
"""

from __future__ import annotations

import math
import numbers
import re
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from instruments.base import ScpiInstrument, action, reading
from instruments.errors import MalformedReply, OutOfRating

NUMERIC_FUNCTIONS = ("URMS", "IRMS", "UDC", "IDC", "P", "S", "Q", "LAMBDA", "PHI", "FU", "FI", "UTHD", "ITHD")
HARMONIC_FUNCTIONS = ("UK", "IK", "PK")
_TRACE = re.compile(r"^(U|I)([1-7])$")
_UNITS = {"U": "V", "I": "A"}


@dataclass(frozen=True)
class WaveformData:
    """Samples (channels × samples), as the instrument delivered them, with what they mean."""

    samples: np.ndarray
    sample_rate_hz: float
    start_time_s: float
    channels: tuple[str, ...]
    units: tuple[str, ...]
    # when the record froze, on the host's time.monotonic(): after the capture command was sent and
    # before the instrument reported it complete (NaN where unknown)
    frozen_after_s: float = math.nan
    frozen_before_s: float = math.nan


class PowerAnalyzer(ScpiInstrument):
    """What a test may ask of a power analyzer."""

    kind = "analyzer"

    # an analyzer only measures: its ranges and its item lists are set up with each reading, and
    # none of them feeds energy to the unit
    @action
    @abstractmethod
    def configure(self, wiring: str, voltage_range_v: float, current_range_a: float) -> None: ...
    @reading
    @abstractmethod
    def read_numeric(self, items: Sequence[tuple[str, int]]) -> list[float]: ...
    @reading
    @abstractmethod
    def read_harmonics(self, function: str, element: int, max_order: int = 50) -> list[float]: ...
    @reading
    @abstractmethod
    def capture(self, traces: Sequence[str], sample_rate_hz: float, samples: int) -> WaveformData: ...


class WT5000(PowerAnalyzer):
    """Yokogawa WT5000 precision power analyzer (up to 7 elements).

    Not yet checked against the WT5000 communication manual or an independent driver: every command
    is unverified, and ``hil bench check`` says so on a lab bench."""

    driver = "yokogawa.wt5000"
    UNVERIFIED: ClassVar[tuple[str, ...]] = (
        ":COMM:REM", ":INP:WIR", ":INP:VOLT:RANG:ALL", ":INP:CURR:RANG:ALL", ":NUM:FORM", ":NUM:NORM:NUMB",
        ":NUM:NORM:ITEM", ":NUM:NORM:VAL?", ":HARM1:ORD", ":NUM:LIST:VAL?", ":WAV:TRAC", ":WAV:SRAT",
        ":WAV:CAPT", ":WAV:TIME?", ":WAV:SEND?",
    )  # fmt: skip
    MODELS = {
        # capture memory and rate [R: WT5000 datasheet, 10 MS/s sampling]
        "WT5000": {
            "voltage_range_v": (1.5, 1000.0),
            "current_range_a": (0.005, 50.0),
            "sample_rate_hz": (1.0, 10_000_000.0),
            "capture_samples": (1.0, 100_000_000.0),
            "elements": (1.0, 7.0),
        },
    }
    DEFAULT_MODEL = "WT5000"
    WIRINGS = ("P1W2", "P1W3", "P3W3", "P3W4", "V3A3")

    def configure(self, wiring: str, voltage_range_v: float, current_range_a: float) -> None:
        if wiring not in self.WIRINGS:
            raise OutOfRating(
                self.name, self.resource_name, f"wiring {wiring!r} is not one of {self.WIRINGS}"
            )
        self.check_rating("voltage_range_v", voltage_range_v, "voltage_range_v")
        self.check_rating("current_range_a", current_range_a, "current_range_a")
        self.write(":COMM:REM ON")
        self.write(f":INP:WIR {wiring}")
        self.write(f":INP:VOLT:RANG:ALL {voltage_range_v:g}V")
        self.write(f":INP:CURR:RANG:ALL {current_range_a:g}A")
        self.write(":NUM:FORM ASC")
        self.check_errors()

    def _check_element(self, element: int) -> None:
        self.check_rating("elements", element, "element")

    def read_numeric(self, items: Sequence[tuple[str, int]]) -> list[float]:
        for function, element in items:
            if function not in NUMERIC_FUNCTIONS:
                raise OutOfRating(self.name, self.resource_name, f"numeric function {function!r} is unknown")
            self._check_element(element)
        commands = [f":NUM:NORM:NUMB {len(items)}"]
        commands += [f":NUM:NORM:ITEM{i} {f},{e}" for i, (f, e) in enumerate(items, 1)]
        self.write(";".join(commands))
        return self.query_floats(":NUM:NORM:VAL?", len(items))

    def read_harmonics(self, function: str, element: int, max_order: int = 50) -> list[float]:
        """Total first, then orders 1..max_order."""
        if function not in HARMONIC_FUNCTIONS:
            raise OutOfRating(self.name, self.resource_name, f"harmonic function {function!r} is unknown")
        self._check_element(element)
        if not 1 <= max_order <= 50:
            raise OutOfRating(self.name, self.resource_name, f"max_order {max_order} is not in 1..50")
        self.write(f":HARM1:ORD 1,{max_order};:NUM:LIST:ITEM1 {function},{element}")
        return self.query_floats(":NUM:LIST:VAL? 1", max_order + 1)

    def capture(self, traces: Sequence[str], sample_rate_hz: float, samples: int) -> WaveformData:
        for trace in traces:
            if not isinstance(trace, str) or not _TRACE.fullmatch(trace):
                raise OutOfRating(self.name, self.resource_name, f"trace {trace!r} is not U1..U7 or I1..I7")
        if isinstance(samples, bool) or not isinstance(samples, numbers.Integral):
            raise OutOfRating(self.name, self.resource_name, f"samples {samples!r} is not a whole number")
        self.check_rating("sample_rate_hz", sample_rate_hz, "sample_rate_hz")
        self.check_rating("capture_samples", samples, "samples")
        self.write(f":WAV:SRAT {sample_rate_hz:g};:WAV:LENG {samples:d};:WAV:FORM FLO;:WAV:BYT LSBF")
        sent = time.monotonic()
        self.write(":WAV:CAPT")
        self.wait_complete()
        completed = time.monotonic()
        self.check_errors()
        rate = self.query_value(":WAV:SRAT?")
        start = self.query_value(":WAV:TIME?")
        data = np.empty((len(traces), samples), dtype=np.float32)
        for row, trace in enumerate(traces):
            self.write(f":WAV:TRAC {trace};:WAV:STAR 0;:WAV:END {samples - 1}")
            block = self.query_block(":WAV:SEND?", "f")
            if block.size != samples:
                raise MalformedReply(
                    self.name, self.resource_name, f"trace {trace}: {block.size} samples, expected {samples}"
                )
            data[row] = block
        units = tuple(_UNITS[t[0]] for t in traces)
        return WaveformData(data, float(rate), float(start), tuple(traces), units, sent, completed)
