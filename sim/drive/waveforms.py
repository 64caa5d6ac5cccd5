"""Analyzer waveforms synthesised from the recorded drive trajectory (reference §4.1 item 3).

For any window [t0, t0 + n/rate) at any rate: U1–U3 phase voltages (fundamental, dead-time 5th/7th,
PWM ripple), I1–I3 phase currents (fundamental, harmonics as parameters, PWM ripple at f_sw with the
f_sw ± 2f_e sidebands, noise), U4/I4 the DC input (ripple at 2·f_sw). Phase x sits at −(x−1)·2π/3, so
a harmonic h = 6k−1 comes out negative sequence and 6k+1 positive, as a six-pulse distortion has them.
Per-phase current gains (normalised to a mean of one, so the positive sequence stays the model's
current) give an unbalanced unit its negative sequence; the zero sequence they would add is taken
out, as a star winding without neutral carries none, so the three currents always sum to zero.

Between trajectory rows values are interpolated linearly, except in a step whose PWM toggled: there
each quantity holds its pre-edge row up to the edge instant and its post-edge row from it, so a trip
drops the currents to zero exactly at the event time. Noise comes in seeded blocks keyed by the
absolute sample index (round(t0·rate) + i), so overlapping windows on one grid read the same values.
Work is done in blocks of ``NOISE_BLOCK`` samples in float32: memory O(block) besides the output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from sim.drive.model import DriveState

CHANNELS = ("U1", "U2", "U3", "I1", "I2", "I3", "U4", "I4")
NOISE_BLOCK = 65536
_NOISE_STRIDE = 4099  # prime offset between the channels' slices of a shared noise draw
TWO_PI = 2.0 * math.pi
_PHASES = (0.0, -TWO_PI / 3.0, TWO_PI / 3.0)
_CURRENT_HARMONICS = (5, 7, 11, 13)


@dataclass(frozen=True)
class DriveTrajectory:
    """One row per plant step, at the step's end time; ``pwm_edge_t_s`` NaN where PWM did not toggle."""

    t_s: np.ndarray
    electrical_angle_rad: np.ndarray  # unwrapped
    i_phase_rms_a: np.ndarray
    i_phase_rms_pre_edge_a: np.ndarray  # in a step whose PWM turned off: the current at its end had it not
    current_angle_rad: np.ndarray
    v_phase_rms_v: np.ndarray
    voltage_angle_rad: np.ndarray
    dc_voltage_v: np.ndarray
    i_dc_input_a: np.ndarray  # into the DC input terminals (link capacitor charging included)
    pwm_enabled: np.ndarray
    pwm_edge_t_s: np.ndarray


class TrajectoryRecorder:
    """Copies the recorded fields of each state the model returns (the model mutates its state).
    The drive model alone has no link capacitor: its DC input current is what it draws itself."""

    _NAMES = tuple(f.name for f in fields(DriveTrajectory))
    _FROM_STATE = tuple("i_dc_a" if name == "i_dc_input_a" else name for name in _NAMES)

    def __init__(self) -> None:
        self._rows: list[tuple[float, ...]] = []

    def append(self, state: DriveState) -> None:
        self._rows.append(tuple(getattr(state, name) for name in self._FROM_STATE))

    def trajectory(self) -> DriveTrajectory:
        columns = np.array(self._rows, dtype=float).T
        data = dict(zip(self._NAMES, columns, strict=True))
        data["pwm_enabled"] = data["pwm_enabled"] != 0.0
        return DriveTrajectory(**data)


@dataclass(frozen=True)
class WaveformParameters:
    current_harmonics: tuple[tuple[int, float], ...]  # (order, ratio of the fundamental)
    voltage_harmonics: tuple[tuple[int, float], ...]
    switching_frequency_hz: float
    current_ripple_a_per_v: float
    voltage_ripple_ratio: float
    dc_voltage_ripple_v_per_a: float
    dc_current_ripple_ratio: float
    noise_ratio: float
    current_noise_floor_a: float
    voltage_noise_floor_v: float
    phase_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)  # current of phases 1-3, mean one

    @classmethod
    def from_inverter(cls, inverter: Mapping[str, float]) -> WaveformParameters:
        scale = inverter["harmonic_scale"]
        gains = tuple(inverter[f"phase_gain_{x}"] for x in "uvw")
        mean = sum(gains) / 3.0
        return cls(
            current_harmonics=tuple((h, scale * inverter[f"harmonic_{h}"]) for h in _CURRENT_HARMONICS),
            voltage_harmonics=((5, inverter["voltage_harmonic_5"]), (7, inverter["voltage_harmonic_7"])),
            switching_frequency_hz=inverter["switching_frequency"],
            current_ripple_a_per_v=inverter["current_ripple"],
            voltage_ripple_ratio=inverter["voltage_ripple"],
            dc_voltage_ripple_v_per_a=inverter["dc_voltage_ripple"],
            dc_current_ripple_ratio=inverter["dc_current_ripple"],
            noise_ratio=inverter["noise_ratio"],
            current_noise_floor_a=inverter["current_noise_floor"],
            voltage_noise_floor_v=inverter["voltage_noise_floor"],
            phase_gains=(gains[0] / mean, gains[1] / mean, gains[2] / mean),
        )

    @property
    def balanced(self) -> bool:
        return self.phase_gains == (1.0, 1.0, 1.0)

    def phase_amplitudes(self) -> tuple[float, float, float]:
        """Each phase's fundamental current relative to the balanced set, zero sequence taken out."""
        phasors = [
            g * complex(math.cos(phi), math.sin(phi))
            for g, phi in zip(self.phase_gains, _PHASES, strict=True)
        ]
        zero = sum(phasors) / 3.0
        return tuple(abs(p - zero) for p in phasors)  # type: ignore[return-value]


def synthesise(
    trajectory: DriveTrajectory,
    parameters: WaveformParameters,
    t0_s: float,
    n: int,
    rate_hz: float,
    channels: Sequence[str] = CHANNELS,
    seed: int = 0,
) -> np.ndarray:
    """Samples t0 + i/rate, i < n, of ``channels`` (names from CHANNELS): float32 (channels, n)."""
    if t0_s < 0.0:
        raise ValueError(f"t0_s={t0_s}: windows start at or after simulated time 0")
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {unknown[0]!r}; known: {', '.join(CHANNELS)}")
    out = np.empty((len(channels), n), dtype=np.float32)
    base = round(t0_s * rate_hz)
    start = 0
    while start < n:
        block = (base + start) // NOISE_BLOCK
        stop = min(n, (block + 1) * NOISE_BLOCK - base)
        times = t0_s + np.arange(start, stop, dtype=np.float64) / rate_hz
        noise_from = base + start - block * NOISE_BLOCK
        _block(
            trajectory,
            parameters,
            times,
            channels,
            out[:, start:stop],
            (seed, round(rate_hz), block),
            noise_from,
        )
        start = stop
    return out


class _Rows:
    """The trajectory seen at sample times: interpolation with exact PWM edges."""

    def __init__(self, traj: DriveTrajectory, times: np.ndarray) -> None:
        t = traj.t_s
        k = np.clip(np.searchsorted(t, times, side="left"), 1, t.size - 1)
        self.k0, self.k1 = k - 1, k
        self.frac = np.clip((times - t[k - 1]) / (t[k] - t[k - 1]), 0.0, 1.0)
        edge = traj.pwm_edge_t_s[k]
        self.has_edge = ~np.isnan(edge)
        self.after_edge = np.where(self.has_edge, times >= np.nan_to_num(edge, nan=np.inf), True)
        self.gate = np.where(self.after_edge, traj.pwm_enabled[k], traj.pwm_enabled[k - 1]).astype(np.float32)

    def linear(self, column: np.ndarray) -> np.ndarray:
        a, b = column[self.k0], column[self.k1]
        return a + self.frac * (b - a)

    def toward_edge(self, column: np.ndarray, pre_edge: np.ndarray) -> np.ndarray:
        """Linear; inside a step whose PWM toggled, toward the row the step would have ended on
        until the edge (a quantity still moving when the trip came), the step's row after it."""
        a = column[self.k0]
        before = a + self.frac * (pre_edge[self.k1] - a)
        return np.where(
            self.has_edge, np.where(self.after_edge, column[self.k1], before), self.linear(column)
        )

    def held(self, column: np.ndarray) -> np.ndarray:
        """Linear, but on the pre-/post-edge row inside a step whose PWM toggled."""
        lin = self.linear(column)
        return np.where(self.has_edge, np.where(self.after_edge, column[self.k1], column[self.k0]), lin)


def _unit_phasor(angle: np.ndarray) -> np.ndarray:
    wrapped = np.mod(angle, TWO_PI).astype(np.float32)
    return np.cos(wrapped) + 1j * np.sin(wrapped)


def _powers(z: np.ndarray, orders: Sequence[int]) -> dict[int, np.ndarray]:
    """z**h for the requested orders by repeated multiplication (cheaper than np.power on complex)."""
    result = {1: z}
    top = max([*orders, 2])
    z2 = z * z
    result[2] = z2
    odd = z
    for h in range(3, top + 1, 2):
        odd = odd * z2
        result[h] = odd
    return result


def _three_phase(
    z: np.ndarray, amplitude: np.ndarray, harmonics: Sequence[tuple[int, float]], ripple: np.ndarray
) -> list[np.ndarray]:
    """amplitude·Re(Σ_h a_h (z·e^{jφ_x})^h) + ripple·Re((z·e^{jφ_x})²) for the three phases."""
    powers = _powers(z, [h for h, _ in harmonics])
    traces = []
    for phi in _PHASES:
        total = powers[1] * np.complex64(complex(math.cos(phi), math.sin(phi)))
        for h, ratio in harmonics:
            if ratio:
                total = total + powers[h] * np.complex64(
                    ratio * complex(math.cos(h * phi), math.sin(h * phi))
                )
        carrier = (powers[2] * np.complex64(complex(math.cos(2 * phi), math.sin(2 * phi)))).real
        traces.append(amplitude * total.real + ripple * carrier)
    return traces


def _block(
    traj: DriveTrajectory,
    par: WaveformParameters,
    times: np.ndarray,
    channels: Sequence[str],
    out: np.ndarray,
    key: tuple[int, int, int],
    noise_from: int,
) -> None:
    rows = _Rows(traj, times)
    gate = rows.gate
    theta = rows.linear(traj.electrical_angle_rad)
    i_amp = (math.sqrt(2.0) * rows.toward_edge(traj.i_phase_rms_a, traj.i_phase_rms_pre_edge_a)).astype(
        np.float32
    ) * gate
    v_amp = (math.sqrt(2.0) * rows.held(traj.v_phase_rms_v)).astype(np.float32) * gate
    v_dc = rows.held(traj.dc_voltage_v).astype(np.float32)
    i_dc = rows.held(traj.i_dc_input_a).astype(np.float32)
    carrier = TWO_PI * np.mod(par.switching_frequency_hz * times, 1.0)
    sin_carrier = np.sin(carrier).astype(np.float32) * gate
    values: dict[str, np.ndarray] = {}
    amplitudes: dict[str, np.ndarray] = {}
    if any(c in channels for c in ("I1", "I2", "I3")):
        z = _unit_phasor(theta + rows.held(traj.current_angle_rad))
        ripple = par.current_ripple_a_per_v * v_dc * sin_carrier
        traces = _three_phase(z, i_amp, par.current_harmonics, ripple)
        if not par.balanced:
            traces = [g * trace for g, trace in zip(par.phase_gains, traces, strict=True)]
            zero = (traces[0] + traces[1] + traces[2]) / np.float32(3.0)
            traces = [trace - zero for trace in traces]
        for x, trace in enumerate(traces, start=1):
            values[f"I{x}"], amplitudes[f"I{x}"] = trace, i_amp
    if any(c in channels for c in ("U1", "U2", "U3")):
        z = _unit_phasor(theta + rows.held(traj.voltage_angle_rad))
        ripple = par.voltage_ripple_ratio * v_dc * sin_carrier
        for x, trace in enumerate(_three_phase(z, v_amp, par.voltage_harmonics, ripple), start=1):
            values[f"U{x}"], amplitudes[f"U{x}"] = trace, v_amp
    sin_double = np.sin(2.0 * carrier).astype(np.float32) * gate
    values["U4"] = v_dc + par.dc_voltage_ripple_v_per_a * i_amp * sin_double
    amplitudes["U4"] = np.abs(v_dc)
    values["I4"] = i_dc + par.dc_current_ripple_ratio * i_amp * sin_double
    amplitudes["I4"] = np.abs(i_dc)
    noise = _noise_block(key)
    for row, name in enumerate(channels):
        floor = par.current_noise_floor_a if name[0] == "I" else par.voltage_noise_floor_v
        std = par.noise_ratio * amplitudes[name] + np.float32(floor)
        first = CHANNELS.index(name) * _NOISE_STRIDE + noise_from
        np.multiply(std, noise[first : first + times.size], out=out[row])
        out[row] += values[name]


def _noise_block(key: tuple[int, int, int]) -> np.ndarray:
    """One draw per block shared by the channels at offsets ``_NOISE_STRIDE`` apart (uncorrelated at
    any lag that matters for a capture), eight times cheaper than a draw per channel."""
    rng = np.random.default_rng(key)
    return rng.standard_normal(NOISE_BLOCK + len(CHANNELS) * _NOISE_STRIDE, dtype=np.float32)
