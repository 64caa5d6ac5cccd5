"""Yokogawa WT5000 power analyzer, as its SCPI firmware answers: numerics and harmonics computed
from the plant now, waveforms synthesised from the plant trajectory (reference §4.4, §6.5).

Wiring on the simulated bench: elements 1-3 the motor phases (phase voltage and current), element
4 the inverter's DC input terminals behind the BMS's contactors (the current into the DC link: its
capacitor's charging, pre-charge inrush included, and what the inverter draws); elements 5-7 are
connected to nothing. ``:WAV:CAPT`` freezes the most recent ``:WAV:LENG`` samples, as a recorder
running continuously holds them.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.drive.waveforms import CHANNELS, DriveTrajectory, WaveformParameters, synthesise
from sim.emulators.base import ScpiEmulator
from sim.scpi import Call, ScpiEngine, ScpiError, definite_block, format_number, format_numbers

NUMERIC = ("URMS", "IRMS", "UDC", "IDC", "P", "S", "Q", "LAMBDA", "PHI", "FU", "FI", "UTHD", "ITHD")
HARMONIC = ("UK", "IK", "PK")
WIRINGS = ("P1W2", "P1W3", "P3W3", "P3W4", "V3A3")
TRACES = tuple(f"{q}{e}" for q in "UI" for e in range(1, 8))
# WT5000 (760903 element) accuracy, ±(fraction of reading, fraction of range) [S: reference §7]:
# DC, and 66 Hz-1 kHz AC; below 66 Hz the DC figures stand in [E]
ACCURACY = {
    ("U", "DC"): (0.0002, 0.0005),
    ("I", "DC"): (0.0002, 0.0005),
    ("U", "AC"): (0.0003, 0.0003),
    ("I", "AC"): (0.0003, 0.0004),
}
_QUANTITY = {"URMS": "U", "UDC": "U", "IRMS": "I", "IDC": "I"}


@dataclass(frozen=True)
class CaptureWindow:
    """One frozen acquisition: ``length`` samples at ``rate_hz`` from ``start_s`` (simulated time)."""

    start_s: float
    rate_hz: float
    length: int
    trajectory: DriveTrajectory


@dataclass(frozen=True)
class AnalyzerRating:
    voltage_range_v: tuple[float, float]
    current_range_a: tuple[float, float]
    sample_rate_hz: tuple[float, float]
    capture_samples: tuple[int, int]
    elements: int


class Wt5000Emulator(ScpiEmulator):
    driver = "yokogawa.wt5000"
    kind = "analyzer"
    DEFAULT_MODEL = "WT5000"
    manufacturer = "YOKOGAWA"
    firmware = "F1.01-SIM"
    MODELS = {"WT5000": AnalyzerRating((1.5, 1000.0), (0.005, 50.0), (1.0, 10e6), (1, 100_000_000), 7)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shape = WaveformParameters.from_inverter(self.profile["inverter"])
        self._current_ratio = dict(self.shape.current_harmonics)
        self._voltage_ratio = dict(self.shape.voltage_harmonics)
        self._phase_amplitudes = self.shape.phase_amplitudes()
        self.capture: CaptureWindow | None = None
        # this unit's own calibration: a fixed error inside the accuracy spec per element and quantity
        rng = np.random.default_rng([self.seed, zlib.crc32(self.serial.encode("utf-8"))])
        self._errors = {
            (element, quantity, kind): (
                float(rng.uniform(-1.0, 1.0)) * rdg,
                float(rng.uniform(-1.0, 1.0)) * rng_fraction,
            )
            for element in range(1, self.rating.elements + 1)
            for (quantity, kind), (rdg, rng_fraction) in ACCURACY.items()
        }

    def reset(self) -> None:
        self.remote = False
        self.wiring = "P3W4"
        self.voltage_range_v = self.rating.voltage_range_v[1]
        self.current_range_a = self.rating.current_range_a[1]
        self.numeric_format = "ASCII"
        self.numeric_count = 15
        self.numeric_items: dict[int, tuple[str, int, int]] = {}
        self.orders = (0, 50)
        self.list_items: dict[int, tuple[str, int]] = {}
        self.sample_rate_hz = 1e6
        self.length = 100_000
        self.waveform_format = "ASCII"
        self.little_endian = False
        self.trace = "U1"
        self.first, self.last = 0, self.length - 1

    # --- plant readings ---------------------------------------------------------------------------
    def _element(self, element: int) -> dict[str, float]:
        plant = self.simulation.plant
        values = dict.fromkeys(NUMERIC, 0.0)
        if element <= 3:
            u, i, lag = plant.phase_quantities()
            i *= self._phase_amplitudes[element - 1]
            u_thd = math.sqrt(sum(r * r for r in self._voltage_ratio.values()))
            i_thd = math.sqrt(sum(r * r for r in self._current_ratio.values()))
            u_rms, i_rms = u * math.sqrt(1.0 + u_thd**2), i * math.sqrt(1.0 + i_thd**2)
            p, s = u * i * math.cos(lag), u_rms * i_rms
            frequency = abs(plant.electrical_frequency_hz) if u > 0 else 0.0
            values.update(
                URMS=u_rms,
                IRMS=i_rms,
                P=p,
                S=s,
                Q=math.sqrt(max(s * s - p * p, 0.0)),
                LAMBDA=p / s if s else 0.0,
                PHI=math.degrees(lag),
                FU=frequency,
                FI=frequency,
                UTHD=100.0 * u_thd if u > 0 else 0.0,
                ITHD=100.0 * i_thd if i > 0 else 0.0,
            )
        elif element == 4:
            u, i = plant.dc_link_voltage_v, plant.dc_input_current_a
            values.update(
                URMS=abs(u), IRMS=abs(i), UDC=u, IDC=i, P=u * i, S=abs(u * i), LAMBDA=1.0 if i else 0.0
            )
        return values

    def _measured(self, element: int, values: dict[str, float]) -> dict[str, float]:
        """What this unit reads: each U and I reading carries its element's fixed error; power and
        the ratios follow from them."""
        kind = "DC" if element == 4 else "AC"
        ranges = {"U": self.voltage_range_v, "I": self.current_range_a}
        out = dict(values)
        for function, quantity in _QUANTITY.items():
            gain, offset = self._errors[(element, quantity, kind)]
            value = values[function]
            out[function] = value * (1.0 + gain) + (offset * ranges[quantity] if value else 0.0)
        scale_u = out["URMS"] / values["URMS"] if values["URMS"] else 1.0
        scale_i = out["IRMS"] / values["IRMS"] if values["IRMS"] else 1.0
        for function in ("P", "S", "Q"):
            out[function] = values[function] * scale_u * scale_i
        return out

    def _harmonics(self, function: str, element: int) -> list[float]:
        """Orders ``self.orders`` of UK, IK or PK; the total (rms sum, or sum for power) first."""
        low, high = self.orders
        plant = self.simulation.plant
        u, i, lag = plant.phase_quantities() if element <= 3 else (0.0, 0.0, 0.0)
        i *= self._phase_amplitudes[element - 1] if element <= 3 else 0.0
        dc_u, dc_i = (plant.dc_link_voltage_v, plant.dc_input_current_a) if element == 4 else (0.0, 0.0)
        u_ratio, i_ratio = {1: 1.0, **self._voltage_ratio}, {1: 1.0, **self._current_ratio}
        by_order = []
        for order in range(low, high + 1):
            uk, ik = (
                (dc_u, dc_i) if order == 0 else (u * u_ratio.get(order, 0.0), i * i_ratio.get(order, 0.0))
            )
            by_order.append(
                {"UK": uk, "IK": ik, "PK": uk * ik * (1.0 if order == 0 else math.cos(lag))}[function]
            )
        total = sum(by_order) if function == "PK" else math.sqrt(sum(v * v for v in by_order))
        return [total, *by_order]

    def samples(self, window: CaptureWindow, trace: str, first: int, last: int) -> np.ndarray:
        """Samples ``first..last`` of ``trace``; elements 5-7 are wired to nothing and read zero."""
        if trace not in CHANNELS:
            return np.zeros(last - first + 1, dtype=np.float32)
        t0 = window.start_s + first / window.rate_hz
        block = synthesise(
            window.trajectory, self.shape, t0, last - first + 1, window.rate_hz, (trace,), seed=self.seed
        )
        return block[0]

    # --- commands ---------------------------------------------------------------------------------
    def register(self, engine: ScpiEngine) -> None:
        r = self.rating
        self.reset()

        def element(call: Call, index: int) -> int:
            return call.integer(index, (1, r.elements))

        def set_remote(call: Call) -> None:
            self.remote = call.boolean(0)

        def set_wiring(call: Call) -> None:
            self.wiring = call.choice(0, WIRINGS)

        def set_voltage_range(call: Call) -> None:
            self.voltage_range_v = call.number(0, "V", r.voltage_range_v)

        def set_current_range(call: Call) -> None:
            self.current_range_a = call.number(0, "A", r.current_range_a)

        def set_numeric_format(call: Call) -> None:
            self.numeric_format = call.choice(0, ("ASCii", "FLOat"))

        def set_numeric_count(call: Call) -> None:
            self.numeric_count = call.integer(0, (1, 255))

        def set_numeric_item(call: Call) -> None:
            function = call.choice(0, NUMERIC + HARMONIC)
            order = call.integer(2, (0, 500)) if call.has(2) else 1
            self.numeric_items[call.suffix] = (function, element(call, 1), order)

        def get_numeric_item(call: Call) -> str:
            function, elem, order = self.numeric_items.get(call.suffix, ("URMS", 1, 1))
            return f"{function},{elem}" + (f",{order}" if function in HARMONIC else "")

        def numeric_value(index: int) -> float:
            function, elem, order = self.numeric_items.get(index, ("URMS", 1, 1))
            if function in HARMONIC:
                low, high = self.orders
                return self._harmonics(function, elem)[1 + order - low] if low <= order <= high else math.nan
            return self._measured(elem, self._element(elem))[function]

        def get_numeric_values(call: Call) -> str | bytes:
            indexes = (
                [call.integer(0, (1, self.numeric_count))]
                if call.has(0)
                else range(1, self.numeric_count + 1)
            )
            values = [numeric_value(i) for i in indexes]
            if self.numeric_format == "FLOAT":
                return definite_block(np.asarray(values, dtype=">f4").tobytes())
            return format_numbers(values)

        def set_orders(call: Call) -> None:
            low, high = call.integer(0, (0, 500)), call.integer(1, (0, 500))
            if low > 1 or high < low:
                raise ScpiError(-224, f"order range {low},{high}")
            self.orders = (low, high)

        def set_list_item(call: Call) -> None:
            self.list_items[call.suffix] = (call.choice(0, HARMONIC), element(call, 1))

        def get_list_values(call: Call) -> str:
            function, elem = self.list_items.get(call.integer(0, (1, 8)), ("UK", 1))
            return format_numbers(self._harmonics(function, elem))

        def set_rate(call: Call) -> None:
            self.sample_rate_hz = call.number(0, "HZ", r.sample_rate_hz)

        def set_length(call: Call) -> None:
            self.length = call.integer(0, r.capture_samples)
            self.first, self.last = 0, self.length - 1

        def set_waveform_format(call: Call) -> None:
            chosen = call.choice(0, ("ASCii", "FLOat", "WORD"))
            if chosen == "WORD":
                raise ScpiError(-221, "WORD format is not emulated; use FLOat or ASCii")
            self.waveform_format = chosen

        def set_byte_order(call: Call) -> None:
            self.little_endian = call.choice(0, ("LSBFirst", "MSBFirst")) == "LSBFIRST"

        def capture(_: Call) -> None:
            plant = self.simulation.plant
            end = plant.time_s
            start = max(end - (self.length - 1) / self.sample_rate_hz, 0.0)
            self.capture = CaptureWindow(
                start, self.sample_rate_hz, self.length, plant.drive_trajectory(start, end)
            )

        def captured() -> CaptureWindow:
            if self.capture is None:
                raise ScpiError(-221, "no waveform captured; send :WAV:CAPT first")
            return self.capture

        def set_trace(call: Call) -> None:
            self.trace = call.choice(0, TRACES)

        def set_first(call: Call) -> None:
            self.first = call.integer(0, (0, self.length - 1))

        def set_last(call: Call) -> None:
            self.last = call.integer(0, (0, self.length - 1))

        def send(_: Call) -> str | bytes:
            window = captured()
            if not self.first <= self.last < window.length:
                raise ScpiError(
                    -221, f"samples {self.first}..{self.last} not in the capture of {window.length}"
                )
            samples = self.samples(window, self.trace, self.first, self.last)
            if self.waveform_format == "ASCII":
                return format_numbers(samples)
            return definite_block(samples.astype("<f4" if self.little_endian else ">f4").tobytes())

        def attribute(name: str) -> Any:
            return lambda _: format_number(getattr(self, name))

        engine.add(":COMMunicate:REMote", set_remote, lambda _: "1" if self.remote else "0")
        engine.add(":INPut:WIRing", set_wiring, lambda _: self.wiring)
        engine.add(":INPut:VOLTage:RANGe[:ALL]", set_voltage_range, attribute("voltage_range_v"))
        engine.add(":INPut:CURRent:RANGe[:ALL]", set_current_range, attribute("current_range_a"))
        engine.add(":NUMeric:FORMat", set_numeric_format, lambda _: self.numeric_format[:3])
        engine.add(":NUMeric[:NORMal]:NUMBer", set_numeric_count, lambda _: str(self.numeric_count))
        engine.add(":NUMeric[:NORMal]:ITEM<n>", set_numeric_item, get_numeric_item)
        engine.add(":NUMeric[:NORMal]:VALue?", getter=get_numeric_values)
        engine.add(":HARMonics<n>:ORDer", set_orders, lambda _: f"{self.orders[0]},{self.orders[1]}")
        engine.add(
            ":NUMeric:LIST:ITEM<n>",
            set_list_item,
            lambda c: "{},{}".format(*self.list_items.get(c.suffix, ("UK", 1))),
        )
        engine.add(":NUMeric:LIST:VALue?", getter=get_list_values)
        engine.add(":WAVeform:SRATe", set_rate, attribute("sample_rate_hz"))
        engine.add(":WAVeform:LENGth", set_length, lambda _: str(self.length))
        engine.add(":WAVeform:FORMat", set_waveform_format, lambda _: self.waveform_format[:3])
        engine.add(":WAVeform:BYTeorder", set_byte_order, lambda _: "LSBF" if self.little_endian else "MSBF")
        engine.add(":WAVeform:CAPTure", capture)
        engine.add(":WAVeform:TIME?", getter=lambda _: f"{captured().start_s:.9f}")
        engine.add(":WAVeform:TRACe", set_trace, lambda _: self.trace)
        engine.add(":WAVeform:STARt", set_first, lambda _: str(self.first))
        engine.add(":WAVeform:END", set_last, lambda _: str(self.last))
        # reading samples out touches only the frozen capture, never the plant: synthesising a long
        # record must not hold simulated time still for everybody else
        engine.add(":WAVeform:SEND?", getter=send, guarded=False)
