"""The firmware's resting OCV–SOC table (reference §3.2, OSBMS Thunder Sky/SinoPoly [S]).

The table lives in the ``bms`` parameter section as ``ocv_soc_000`` … ``ocv_soc_100`` (the digits
are the SOC in percent), so a unit with another cell chemistry overrides points by dotted path.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from itertools import pairwise

PREFIX = "ocv_soc_"


class OcvTable:
    def __init__(self, socs: list[float], volts: list[float]) -> None:
        if len(socs) < 2 or any(b <= a for a, b in pairwise(socs)):
            raise ValueError("OCV table: at least two points, SOC strictly increasing")
        if any(b <= a for a, b in pairwise(volts)):
            raise ValueError("OCV table: OCV strictly increasing with SOC (else SOC(OCV) is ambiguous)")
        self.socs = socs
        self.volts = volts

    @classmethod
    def from_params(cls, params: Mapping[str, float]) -> OcvTable:
        points = sorted(
            (int(name[len(PREFIX) :]) / 100.0, v) for name, v in params.items() if name.startswith(PREFIX)
        )
        return cls([s for s, _ in points], [v for _, v in points])

    def ocv(self, soc: float) -> float:
        """Resting cell voltage at ``soc`` (fraction); straight-line extrapolation past the ends."""
        return _interpolate(self.socs, self.volts, soc)

    def soc(self, ocv_v: float) -> float:
        """SOC (fraction, clamped to the table's ends) of a resting cell at ``ocv_v``."""
        if ocv_v <= self.volts[0]:
            return self.socs[0]
        if ocv_v >= self.volts[-1]:
            return self.socs[-1]
        return _interpolate(self.volts, self.socs, ocv_v)


def _interpolate(xs: list[float], ys: list[float], x: float) -> float:
    i = min(max(bisect_right(xs, x), 1), len(xs) - 1)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
