"""The shortcuts of the fast paths give what the plain computation gives."""

import numpy as np
import pytest
import scipy.fft

from hil.waveform.crossing import EdgeScanner
from hil.waveform.spectral import low_bins


@pytest.mark.parametrize("n", [20_000, 24_000, 2 * 3 * 5 * 7 * 11 * 13, 10_007])  # 10_007 is prime
def test_low_bins_match_the_full_transform(n, rng):
    frames = rng.normal(size=(2, 3, n))
    expected = scipy.fft.rfft(frames, axis=-1)[..., :506]
    np.testing.assert_allclose(low_bins(frames, 506), expected, rtol=0, atol=1e-9 * np.abs(expected).max())


def test_low_bins_of_float32_are_as_close_as_a_float32_transform(rng):
    frames = rng.normal(size=(4, 20_000)).astype(np.float32)
    exact = scipy.fft.rfft(frames.astype(np.float64), axis=-1)[..., :506]
    full = scipy.fft.rfft(frames, axis=-1)[..., :506]
    assert np.abs(low_bins(frames, 506) - exact).max() <= 2 * np.abs(full - exact).max()


def exact_crossings(x: np.ndarray, level: float, hysteresis: float) -> list[int]:
    """Rising crossings with hysteresis, sample by sample: a sample both at/above the level and below
    the arming level (negative hysteresis) changes nothing."""
    armed, out = False, []
    for i, v in enumerate(x.tolist()):
        fires, arms = v >= level, v < level - hysteresis
        if fires and not arms:
            if armed:
                out.append(i)
            armed = False
        elif arms and not fires:
            armed = True
    return out


@pytest.mark.parametrize("hysteresis", [0.0, 0.3, -0.2])
@pytest.mark.parametrize("chunk", [1000, 4096, 50_000])
def test_edge_scanner_matches_a_sample_by_sample_scan(hysteresis, chunk, rng):
    # Slow cycles (a few changes per row) and pure noise (many: the exact pass takes over).
    t = np.arange(60_000)
    x = np.sin(2 * np.pi * t / 7000) + rng.normal(0, 0.2, t.size)
    x[30_000:40_000] = rng.normal(0, 1, 10_000)
    scanner = EdgeScanner(0.0, hysteresis, rising=True)
    found = [e for a in range(0, x.size, chunk) for e in scanner.scan(x[a : a + chunk], a)]
    assert found == exact_crossings(x, 0.0, hysteresis)
