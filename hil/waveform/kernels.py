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


def chunk_min_max(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Min and max of each chunk of ``size`` samples of ``x`` (the last may be short), and whether a
    sample may not be finite: one call on the kernels (the extremes then leave NaN aside), two
    reductions a chunk on numpy (NaN propagates)."""
    if usable(x):
        lo, hi, zero = compiled.chunk_minmax(x, size)
        return np.frombuffer(lo), np.frombuffer(hi), zero != 0
    starts = range(0, x.size, size)
    lo = np.array([np.minimum.reduce(x[a : a + size]) for a in starts], dtype=np.float64)
    hi = np.array([np.maximum.reduce(x[a : a + size]) for a in starts], dtype=np.float64)
    return lo, hi, not (np.isfinite(lo).all() and np.isfinite(hi).all())
