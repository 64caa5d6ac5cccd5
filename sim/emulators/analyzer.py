"""Yokogawa WT5000 power analyzer, as its firmware answers the commands of the family's
communication manual (the WT3000 communication interface user's manual, chapter 6, is the nearest
one found): numerics and harmonics computed from the plant now, waveforms synthesised from the plant
trajectory (reference §4.4, §6.5).

Errors are read with ``:STATus:ERRor?`` and carry positive codes (``113,"Undefined header"``); there
is no ``SYSTem:ERRor?`` (a query the WT5000 does not know gets no reply). ``:WAV:SRAT?`` and
``:WAV:LENG?`` are queries only: the record runs at ``RECORD_HZ`` continuously [E: the WT5000's own
record rate and length are not known], and ``:WAV:HOLD ON`` freezes the most recent ``RECORD_S`` of it
for every trace at once (``ON`` again takes a fresh one). ``*OPC?`` waits for no acquisition.

Wiring on the simulated bench: elements 1-3 the motor phases (phase voltage and current), element
4 the inverter's DC input terminals behind the BMS's contactors (the current into the DC link: its
capacitor's charging, pre-charge inrush included, and what the inverter draws); elements 5-7 are
connected to nothing.
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
# the harmonic list's functions [manual: WT3000 comm. manual, 6-93, :NUMeric:LIST:ITEM<x>]
HARMONIC = ("U", "I", "P")
WIRINGS = ("P1W2", "P1W3", "P3W3", "P3W4", "V3A3")
TRACES = tuple(f"{q}{e}" for q in "UI" for e in range(1, 8))
# ranges at crest factor 3 [manual: WT3000 comm. manual, 6-67, 6-72]
VOLTAGE_RANGES_V = (15.0, 30.0, 60.0, 100.0, 150.0, 300.0, 600.0, 1000.0)
DIRECT_CURRENT_RANGES_A = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
SENSOR_RANGES_V = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
# the waveform record: its rate and how much of it is kept [E: the WT5000 samples at 10 MS/s (R:
# datasheet); what its waveform record holds was not found (the WT3000's display record is 1002 points
# a screen), and these serve every capture the suites take, at 1 µs down to 1 ms]
RECORD_HZ = 1_000_000.0
RECORD_S = 10.0
# traces synthesised together: one element's three phases share their angle and harmonics, the DC
# link's voltage and current their ripple
TRACE_GROUPS = {
    **dict.fromkeys(("U1", "U2", "U3"), ("U1", "U2", "U3")),
    **dict.fromkeys(("I1", "I2", "I3"), ("I1", "I2", "I3")),
    **dict.fromkeys(("U4", "I4"), ("U4", "I4")),
}
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
    elements: int


class Wt5000Emulator(ScpiEmulator):
    driver = "yokogawa.wt5000"
    kind = "analyzer"
    DEFAULT_MODEL = "WT5000"
    # *IDN? as <manufacturer>,<model>,<serial>,<firmware> [manual: WT3000 comm. manual, 6-114, example
    # "YOKOGAWA,WT3004E-2A0-30A4,0,F6.01"]; the WT5000's model field is unverified
    manufacturer = "YOKOGAWA"
    firmware = "F1.01-SIM"
    # the sensor ratio is the bench's, not the instrument's: both answer as a WT5000
    MODELS = {"WT5000": AnalyzerRating(7), "WT5000-EXT-10mV/A": AnalyzerRating(7)}

    @property
    def identity(self) -> str:
        return f"{self.manufacturer},WT5000,{self.serial},{self.firmware}"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shape = WaveformParameters.from_inverter(self.profile["inverter"])
        self._current_ratio = dict(self.shape.current_harmonics)
        self._voltage_ratio = dict(self.shape.voltage_harmonics)
        self._phase_amplitudes = self.shape.phase_amplitudes()
        self.capture: CaptureWindow | None = None
        # (record, (first, last), trace -> samples) of the last synthesis, until the next
        self._synthesised: tuple[CaptureWindow, tuple[int, int], dict[str, np.ndarray]] | None = None
        # the record most recently held, kept after its release (where a test finds its instants)
        self.last_hold: CaptureWindow | None = None
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
        self.voltage_range_v = VOLTAGE_RANGES_V[-1]
        self.sensor_mv_per_a = 10.0
        self.current_range_a = DIRECT_CURRENT_RANGES_A[-1]
        self.numeric_format = "ASCII"
        self.numeric_count = 15
        self.numeric_items: dict[int, tuple[str, int]] = {}
        self.orders = (0, 50)
        self.list_items: dict[int, tuple[str, int]] = {}
        self.list_order = 50
        self.list_select = "ALL"
        self.waveform_format = "ASCII"
        self.little_endian = False
        self.trace = "U1"
        self.first, self.last = 0, 1001
        self.capture = None
        self._synthesised = None

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
        """The list of U, I or P as :NUMeric:LIST:VALue? gives it: the total over the analysed orders
        (:HARMonics:ORDer; rms sum, or sum for power), the DC component, then orders 1 to
        :NUMeric:LIST:ORDer (those :NUMeric:LIST:SELect leaves out skipped, those not analysed NaN)."""
        low, high = self.orders
        plant = self.simulation.plant
        u, i, lag = plant.phase_quantities() if element <= 3 else (0.0, 0.0, 0.0)
        i *= self._phase_amplitudes[element - 1] if element <= 3 else 0.0
        dc_u, dc_i = (plant.dc_link_voltage_v, plant.dc_input_current_a) if element == 4 else (0.0, 0.0)
        u_ratio, i_ratio = {1: 1.0, **self._voltage_ratio}, {1: 1.0, **self._current_ratio}

        def at(order: int) -> float:
            uk, ik = (
                (dc_u, dc_i) if order == 0 else (u * u_ratio.get(order, 0.0), i * i_ratio.get(order, 0.0))
            )
            return {"U": uk, "I": ik, "P": uk * ik * (1.0 if order == 0 else math.cos(lag))}[function]

        analysed = [at(order) for order in range(low, high + 1)]
        total = sum(analysed) if function == "P" else math.sqrt(sum(v * v for v in analysed))
        parity = {"ALL": (0, 1), "EVEN": (0,), "ODD": (1,)}[self.list_select]
        orders = [
            at(order) if low <= order <= high else math.nan
            for order in range(1, self.list_order + 1)
            if order % 2 in parity
        ]
        return [total, at(0), *orders]

    def samples(self, window: CaptureWindow, trace: str, first: int, last: int) -> np.ndarray:
        """Samples ``first..last`` of ``trace``; elements 5-7 are wired to nothing and read zero, and
        so does everything before simulated time 0 (the analyzer ran before the bench was powered).

        A trace comes with its group (``TRACE_GROUPS``), kept until the next range or record: a
        capture reads the same range of each trace in turn, and a phase's current costs about what
        all three cost together (a 7.5 s record at 1 MS/s is seconds of synthesis a trace)."""
        kept = self._synthesised
        if kept is not None and kept[0] is window and kept[1] == (first, last) and trace in kept[2]:
            return kept[2][trace]
        group = TRACE_GROUPS.get(trace, (trace,))
        out = np.zeros((len(group), last - first + 1), dtype=np.float32)
        # the first sample at or after simulated time 0
        powered = max(first, math.ceil(-window.start_s * window.rate_hz - 1e-6))
        # a group is wired traces only; an unwired trace (elements 5-7) stands alone
        if trace in CHANNELS and powered <= last:
            t0 = max(window.start_s + powered / window.rate_hz, 0.0)
            out[:, powered - first :] = synthesise(
                window.trajectory, self.shape, t0, last - powered + 1, window.rate_hz, group, seed=self.seed
            )
        self._synthesised = (window, (first, last), dict(zip(group, out, strict=True)))
        return self._synthesised[2][trace]

    # --- commands ---------------------------------------------------------------------------------
    def register(self, engine: ScpiEngine) -> None:
        r = self.rating
        self.reset()
        # a Yokogawa's error queue is :STATus:ERRor?, its codes positive [manual: WT3000 comm. manual,
        # 6-103]; it has none of the SCPI SYSTem:ERRor queries
        engine.remove("SYSTem:ERRor[:NEXT]?")
        engine.remove("SYSTem:ERRor:COUNt?")

        def next_error(_: Call) -> str:
            code, _, text = engine.next_error().partition(",")
            return f"{abs(int(code))},{text}"

        def element(call: Call, index: int) -> int:
            return call.integer(index, (1, r.elements))

        def listed(call: Call, unit: str, values: tuple[float, ...]) -> float:
            value = call.number(0, unit)
            if not any(math.isclose(value, v, rel_tol=1e-9) for v in values):
                raise ScpiError(-224, f"{value:g} {unit} is not one of the ranges {values}")
            return value

        def set_remote(call: Call) -> None:
            self.remote = call.boolean(0)

        def set_wiring(call: Call) -> None:
            self.wiring = call.choice(0, WIRINGS)

        def set_voltage_range(call: Call) -> None:
            self.voltage_range_v = listed(call, "V", VOLTAGE_RANGES_V)

        def set_current_range(call: Call) -> None:
            if call.text(0).strip().upper() in ("EXT", "EXTERNAL"):
                sensor_v = call.number(1, "V")
                if not any(math.isclose(sensor_v, v, rel_tol=1e-9) for v in SENSOR_RANGES_V):
                    raise ScpiError(-224, f"{sensor_v:g} V is not one of the sensor ranges {SENSOR_RANGES_V}")
                self.current_range_a = sensor_v * 1000.0 / self.sensor_mv_per_a
            else:
                self.current_range_a = listed(call, "A", DIRECT_CURRENT_RANGES_A)

        def set_sensor_ratio(call: Call) -> None:
            self.sensor_mv_per_a = call.number(0, limits=(0.0001, 99999.9999))

        def set_numeric_format(call: Call) -> None:
            self.numeric_format = call.choice(0, ("ASCii", "FLOat"))

        def set_numeric_count(call: Call) -> None:
            self.numeric_count = call.integer(0, (1, 255))

        def set_numeric_item(call: Call) -> None:
            self.numeric_items[call.suffix] = (call.choice(0, NUMERIC), element(call, 1))

        def get_numeric_item(call: Call) -> str:
            return "{},{}".format(*self.numeric_items.get(call.suffix, ("URMS", 1)))

        def numeric_value(index: int) -> float:
            function, elem = self.numeric_items.get(index, ("URMS", 1))
            return self._measured(elem, self._element(elem))[function]

        def get_numeric_values(call: Call) -> str | bytes:
            indexes = (
                [call.integer(0, (1, self.numeric_count))]
                if call.has(0)
                else range(1, self.numeric_count + 1)
            )
            return self._numbers([numeric_value(i) for i in indexes])

        def set_orders(call: Call) -> None:
            low, high = call.integer(0, (0, 500)), call.integer(1, (0, 500))
            if low > 1 or high < low:
                raise ScpiError(-224, f"order range {low},{high}")
            self.orders = (low, high)

        def set_list_order(call: Call) -> None:
            self.list_order = 100 if call.text(0).strip().upper() == "ALL" else call.integer(0, (1, 100))

        def set_list_select(call: Call) -> None:
            self.list_select = call.choice(0, ("EVEN", "ODD", "ALL"))

        def set_list_item(call: Call) -> None:
            self.list_items[call.suffix] = (call.choice(0, HARMONIC), element(call, 1))

        def get_list_values(call: Call) -> str | bytes:
            function, elem = self.list_items.get(call.integer(0, (1, 64)), ("U", 1))
            return self._numbers(self._harmonics(function, elem))

        def set_waveform_format(call: Call) -> None:
            self.waveform_format = call.choice(0, ("ASCii", "FLOat"))

        def set_byte_order(call: Call) -> None:
            self.little_endian = call.choice(0, ("LSBFirst", "MSBFirst")) == "LSBFIRST"

        def record() -> CaptureWindow:
            """The most recent RECORD_S of the running record (it ran before the bench started)."""
            plant = self.simulation.plant
            end = plant.time_s
            length = round(RECORD_S * RECORD_HZ) + 1
            start = end - (length - 1) / RECORD_HZ
            return CaptureWindow(start, RECORD_HZ, length, plant.drive_trajectory(max(start, 0.0), end))

        def set_hold(call: Call) -> None:
            # ON holds the most recent record of every trace; ON again replaces it with a fresh one
            if call.boolean(0):
                self.capture = self.last_hold = record()
            else:
                self.capture = None
            self._synthesised = None  # what it held (hundreds of MB at most) goes with the record

        def held() -> CaptureWindow:
            if self.capture is None:
                raise ScpiError(-221, "the record is not held; send :WAVeform:HOLD ON first [E]")
            return self.capture

        def length(_: Call) -> str:
            return str(self.capture.length if self.capture is not None else record().length)

        def set_trace(call: Call) -> None:
            self.trace = call.choice(0, TRACES)
            if int(self.trace[1:]) > r.elements:
                raise ScpiError(-224, f"element {self.trace[1:]} is not installed")

        def set_first(call: Call) -> None:
            self.first = call.integer(0, (0, int(RECORD_S * RECORD_HZ)))

        def set_last(call: Call) -> None:
            self.last = call.integer(0, (0, int(RECORD_S * RECORD_HZ)))

        def send(_: Call) -> str | bytes:
            window = held()
            # points beyond the record are not output [manual: WT3000 comm. manual, 6-18]
            last = min(self.last, window.length - 1)
            if self.first > last:
                raise ScpiError(-221, f"start {self.first} is past the record's end {window.length - 1}")
            samples = self.samples(window, self.trace, self.first, last)
            if self.waveform_format == "ASCII":
                return format_numbers(samples)
            return definite_block(samples.astype("<f4" if self.little_endian else ">f4").tobytes())

        def attribute(name: str) -> Any:
            return lambda _: format_number(getattr(self, name))

        engine.add(":STATus:ERRor?", getter=next_error)
        engine.add(":COMMunicate:REMote", set_remote, lambda _: "1" if self.remote else "0")
        engine.add("[:INPut]:WIRing", set_wiring, lambda _: self.wiring)
        engine.add("[:INPut]:VOLTage:RANGe[:ALL]", set_voltage_range, attribute("voltage_range_v"))
        engine.add("[:INPut]:CURRent:RANGe[:ALL]", set_current_range, attribute("current_range_a"))
        engine.add("[:INPut]:CURRent:SRATio[:ALL]", set_sensor_ratio, attribute("sensor_mv_per_a"))
        engine.add(":NUMeric:FORMat", set_numeric_format, lambda _: self.numeric_format[:3])
        engine.add(":NUMeric[:NORMal]:NUMBer", set_numeric_count, lambda _: str(self.numeric_count))
        engine.add(":NUMeric[:NORMal]:ITEM<n>", set_numeric_item, get_numeric_item)
        engine.add(":NUMeric[:NORMal]:VALue?", getter=get_numeric_values)
        engine.add(":HARMonics<n>:ORDer", set_orders, lambda _: f"{self.orders[0]},{self.orders[1]}")
        engine.add(":NUMeric:LIST:ORDer", set_list_order, lambda _: str(self.list_order))
        engine.add(":NUMeric:LIST:SELect", set_list_select, lambda _: self.list_select)
        engine.add(
            ":NUMeric:LIST:ITEM<n>",
            set_list_item,
            lambda c: "{},{}".format(*self.list_items.get(c.suffix, ("U", 1))),
        )
        engine.add(":NUMeric:LIST:VALue?", getter=get_list_values)
        # the record's rate and length are queries only [manual: WT3000 comm. manual, 6-112/6-113]
        engine.add(":WAVeform:SRATe?", getter=lambda _: format_number(RECORD_HZ))
        engine.add(":WAVeform:LENGth?", getter=length)
        engine.add(":WAVeform:HOLD", set_hold, lambda _: "1" if self.capture is not None else "0")
        engine.add(":WAVeform:FORMat", set_waveform_format, lambda _: self.waveform_format[:3])
        engine.add(":WAVeform:BYTeorder", set_byte_order, lambda _: "LSBF" if self.little_endian else "MSBF")
        engine.add(":WAVeform:TRACe", set_trace, lambda _: self.trace)
        engine.add(":WAVeform:STARt", set_first, lambda _: str(self.first))
        engine.add(":WAVeform:END", set_last, lambda _: str(self.last))
        # reading samples out touches only the held record, never the plant: synthesising a long
        # record must not hold simulated time still for everybody else
        engine.add(":WAVeform:SEND?", getter=send, guarded=False)

    def _numbers(self, values: list[float]) -> str | bytes:
        """ASCII <NR3>s, or a block of big-endian floats [manual: WT3000 comm. manual, 6-91]."""
        if self.numeric_format == "FLOAT":
            return definite_block(np.asarray(values, dtype=">f4").tobytes())
        return format_numbers(values)
