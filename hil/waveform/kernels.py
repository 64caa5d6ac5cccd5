"""The compiled single-pass kernels (``_kernels.c``), and whether a window of samples can use them.

numpy computes one statistic per pass over the samples; the checks that need several of each sample
(per-cycle RMS, ripple, step metrics, the envelope screen) run at a fraction of the memory bandwidth
that way. The kernels compute them all in one pass, and search for a level without numpy's per-chunk
calls. The package builds them where a C compiler is at hand and installs without them elsewhere;
the checks then take their numpy paths, which give the same results, slower.
"""

from __future__ import annotations

import numpy as np

try:
    from hil.waveform import _kernels as compiled
except ImportError:  # built without a C compiler
    compiled = None


def usable(x: np.ndarray) -> bool:
    """Whether the kernels can read ``x`` in place: one-dimensional, contiguous, not empty, float32 or
    float64 in the machine's byte order."""
    return (
        compiled is not None
        and x.ndim == 1
        and x.size > 0
        and x.flags.c_contiguous
        and x.dtype.isnative
        and x.dtype.type in (np.float32, np.float64)
    )


def min_max(x: np.ndarray) -> tuple[float, float]:
    """Min and max of ``x``: one pass on the kernels, two reductions on numpy (and wherever a sample
    is not finite, so that NaN propagates as numpy has it)."""
    if usable(x):
        lo, hi, zero = compiled.minmax(x)
        if zero == 0:
            return lo, hi
    return float(np.minimum.reduce(x)), float(np.maximum.reduce(x))
