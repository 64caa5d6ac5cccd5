"""A capture: a block of samples from the power analyzer with the metadata needed to read it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Window edges given in seconds land on sample instants up to this fraction of a sample period,
# so that t0 = k/fs computed in floating point still selects sample k.
_EDGE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Capture:
    """Samples of shape (channels, samples) taken at a fixed rate; sample k is at start_s + k / rate.

    Slicing by name (``cap["ia"]``) and by time (``cap.during(t0, t1)``) gives views, not copies.
    """

    samples: np.ndarray
    sample_rate_hz: float
    channels: tuple[str, ...]
    units: tuple[str, ...]
    start_s: float = 0.0

    def __post_init__(self) -> None:
        if self.samples.ndim != 2:
            raise ValueError(f"Capture.samples: expected shape (channels, samples), got {self.samples.shape}")
        if self.samples.dtype not in (np.float32, np.float64):
            raise ValueError(f"Capture.samples: dtype must be float32 or float64, got {self.samples.dtype}")
        if not len(self.channels) == len(self.units) == self.samples.shape[0]:
            raise ValueError(
                f"Capture: {self.samples.shape[0]} channels of samples but {len(self.channels)} names "
                f"and {len(self.units)} units"
            )
        twice = sorted({name for name in self.channels if self.channels.count(name) > 1})
        if twice:
            raise ValueError(
                f"Capture.channels: {twice} named more than once; a check could not tell them apart"
            )
        if not 0 < self.sample_rate_hz < math.inf:
            raise ValueError(f"Capture.sample_rate_hz must be positive and finite, got {self.sample_rate_hz}")
        if not math.isfinite(self.start_s):
            raise ValueError(f"Capture.start_s must be finite, got {self.start_s}")

    @classmethod
    def from_arrays(
        cls,
        samples: np.ndarray | Sequence[np.ndarray],
        sample_rate_hz: float,
        channels: Sequence[str] | None = None,
        units: Sequence[str] | str = "",
        start_s: float = 0.0,
    ) -> Capture:
        """Wrap what a driver returns: a 1-D or (channels, samples) array and its metadata."""
        data = np.asarray(samples)
        if data.dtype not in (np.float32, np.float64):
            data = data.astype(np.float64)
        data = np.atleast_2d(data)
        n = data.shape[0]
        names = tuple(channels) if channels is not None else tuple(f"ch{i}" for i in range(n))
        unit_names = (units,) * n if isinstance(units, str) else tuple(units)
        return cls(data, float(sample_rate_hz), names, unit_names, float(start_s))

    @property
    def n_samples(self) -> int:
        return self.samples.shape[1]

    @property
    def dt_s(self) -> float:
        return 1.0 / self.sample_rate_hz

    @property
    def end_s(self) -> float:
        """Time of the last sample."""
        return self.start_s + (self.n_samples - 1) / self.sample_rate_hz

    @property
    def dtype(self) -> np.dtype:
        return self.samples.dtype

    def time_s(self, i0: int = 0, i1: int | None = None) -> np.ndarray:
        """Sample instants of samples i0..i1 (for plots and exports; checks never need the full axis)."""
        i1 = self.n_samples if i1 is None else i1
        return self.start_s + np.arange(i0, i1) / self.sample_rate_hz

    def time_of(self, index: float | np.ndarray) -> float | np.ndarray:
        return self.start_s + index / self.sample_rate_hz

    @property
    def span_s(self) -> tuple[float, float]:
        """The time the capture covers: its n sample periods, from the first sample on."""
        return self.start_s, self.start_s + self.n_samples / self.sample_rate_hz

    def index_range(self, during: tuple[float, float] | None) -> tuple[int, int]:
        """Indices [i0, i1) of the samples whose instants lie in the closed window ``during``, clamped
        to the capture (empty where the window misses it). Checks validate their window with
        ``window`` instead."""
        if during is None:
            return 0, self.n_samples
        t0, t1 = during
        if not t0 <= t1:
            raise ValueError(f"during=({t0}, {t1}): the window ends before it starts")
        t0, t1 = max(t0, self.start_s - 1.0), min(t1, self.end_s + 1.0)
        i0 = math.ceil((t0 - self.start_s) * self.sample_rate_hz - _EDGE_TOLERANCE)
        i1 = math.floor((t1 - self.start_s) * self.sample_rate_hz + _EDGE_TOLERANCE) + 1
        i1 = min(max(i1, 0), self.n_samples)
        return min(max(i0, 0), i1), i1

    def window(self, during: tuple[float, float] | None, clip: bool = False) -> tuple[int, int]:
        """Indices [i0, i1) of the window ``during`` (None: the whole capture), which must hold samples
        and lie in the capture's span; one partly outside it is cut to the span only with ``clip``."""
        t_first, t_end = self.span_s
        span = f"the capture spans {t_first:.9g}..{t_end:.9g} s ({self.n_samples} samples)"
        if self.n_samples == 0:
            raise ValueError(f"the capture holds no samples; {span}")
        if during is None:
            return 0, self.n_samples
        t0, t1 = during
        where = f"window during=({t0:.9g}, {t1:.9g}) s"
        if not t0 <= t1:
            raise ValueError(f"{where} ends before it starts (or is NaN)")
        slack = _EDGE_TOLERANCE / self.sample_rate_hz
        if t1 < t_first - slack:
            raise ValueError(f"{where} lies before the capture: {span}")
        if t0 > t_end + slack:
            raise ValueError(f"{where} lies after the capture: {span}")
        if not clip and (t0 < t_first - slack or t1 > t_end + slack):
            raise ValueError(
                f"{where} lies partly outside the capture: {span}; pass clip=True to check the part inside"
            )
        i0, i1 = self.index_range(during)
        if i1 <= i0:
            raise ValueError(f"{where} holds no sample (one every {1 / self.sample_rate_hz:.3g} s); {span}")
        return i0, i1

    def index_at(self, t_s: float, name: str, i0: int, i1: int) -> int:
        """Index of the first sample at or after the instant ``t_s`` (named ``name`` in errors), which must
        lie within the samples [i0, i1) of a check's window."""
        t_a, t_b = self.time_of(i0), self.time_of(i1 - 1)
        slack = _EDGE_TOLERANCE / self.sample_rate_hz
        if not t_a - slack <= t_s <= t_b + slack:
            raise ValueError(
                f"{name}={t_s:.9g} s lies outside the checked window {t_a:.9g}..{t_b:.9g} s "
                f"(the capture spans {self.span_s[0]:.9g}..{self.span_s[1]:.9g} s)"
            )
        return max(i0, min(self.index_range((t_s, math.inf))[0], i1 - 1))

    def during(self, t0: float, t1: float, clip: bool = False) -> Capture:
        """The samples in the closed time window [t0, t1], as a view."""
        i0, i1 = self.window((t0, t1), clip)
        return self.slice(i0, i1)

    def slice(self, i0: int, i1: int) -> Capture:
        """Samples [i0, i1) of every channel, as a view on the same time axis."""
        return Capture(
            self.samples[:, i0:i1], self.sample_rate_hz, self.channels, self.units, self.time_of(i0)
        )

    def channel_index(self, name: str) -> int:
        try:
            return self.channels.index(name)
        except ValueError:
            raise KeyError(f"capture has no channel {name!r}; channels are {list(self.channels)}") from None

    def names(self, channels: str | Sequence[str] | None) -> list[str]:
        """The channel names a check runs over: one, several (none twice) or all (None)."""
        if channels is None:
            return list(self.channels)
        names = [channels] if isinstance(channels, str) else list(channels)
        if not names:
            raise ValueError(f"an empty list of channels; channels are {list(self.channels)}")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"channels {twice} named more than once in {names}")
        for n in names:
            self.channel_index(n)
        return names

    def select(self, channels: str | Sequence[str] | None) -> Capture:
        """One channel, several, or all (None); a view where the channels are evenly spaced in the
        capture (adjacent, every other ...), else a copy. Checks take the rows one by one: no copy."""
        if channels is None:
            return self
        names = self.names(channels)
        idx = [self.channel_index(n) for n in names]
        step = idx[1] - idx[0] if len(idx) > 1 else 1
        if step > 0 and idx == list(range(idx[0], idx[-1] + 1, step)):
            rows = self.samples[idx[0] : idx[-1] + 1 : step]
        else:
            rows = self.samples[idx]
        return Capture(
            rows, self.sample_rate_hz, tuple(names), tuple(self.units[i] for i in idx), self.start_s
        )

    def __getitem__(self, channels: str | Sequence[str]) -> Capture:
        return self.select(channels)

    def channel(self, name: str) -> np.ndarray:
        """The samples of one channel (a view)."""
        return self.samples[self.channel_index(name)]
