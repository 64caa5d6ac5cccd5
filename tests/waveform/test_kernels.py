"""The compiled kernels give what the numpy paths give, on the cases that stress their shortcuts:
events at block edges, many crossings, repeated extremes, NaN, strided rows."""

import math
import shutil
import sysconfig
from functools import partial

import numpy as np
import pytest

from hil.waveform import Capture, is_constant, kernels, ripple, rms, step_info, streaming
from hil.waveform.crossing import EdgeScanner, first_where

needs_kernels = pytest.mark.usefixtures("compiled")

FS = 10e3


def both_paths(check, cap: Capture, monkeypatch: pytest.MonkeyPatch, **kwargs):
    fast = check(cap, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(kernels, "compiled", None)
        slow = check(cap, **kwargs)
    return fast, slow


def same_values(fast, slow, rtol: float) -> None:
    for a, b in zip(fast.outcomes, slow.outcomes, strict=True):
        assert a.values.keys() == b.values.keys()
        for key in a.values:
            np.testing.assert_allclose(a.values[key].value, b.values[key].value, rtol=rtol, err_msg=key)
        assert a.passed == b.passed and a.violations == b.violations


def test_the_package_builds_the_kernels_where_a_compiler_is_at_hand():
    cc = (sysconfig.get_config_var("CC") or "").split()
    if not cc or shutil.which(cc[0]) is None:
        pytest.skip("no C compiler: the numpy paths serve")
    assert kernels.compiled is not None, "a C compiler is here, yet the kernels were not built"


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hysteresis", [0.0, 0.5, -0.2])
def test_cycles_agree_on_noise_and_on_crossings_at_block_edges(dtype, hysteresis, monkeypatch):
    rng = np.random.default_rng(7)
    t = np.arange(200_000)
    x = np.sin(2 * np.pi * t / 2048) + rng.normal(0, 0.05, t.size)  # crossings near multiples of 1024
    x[50_000:60_000] = rng.normal(0, 1, 10_000)  # a crossing every few samples
    x[1023], x[1024], x[2047], x[2048] = -1.0, 0.0, -1.0, 1.0  # 0.0 fires: the level counts as reached
    x[98 * 1024 : 99 * 1024] = -1.0
    x[98 * 1024 + 500] = 0.0  # the only sample of a block that can fire is on the level
    x[150_000:150_002] = min(0.0, -hysteresis), 1.0  # on the arming level: does not arm
    cap = Capture.from_arrays(x.astype(dtype), FS)
    fast, slow = both_paths(rms, cap, monkeypatch, hysteresis=hysteresis)
    same_values(fast, slow, 1e-9 if dtype == np.float64 else 1e-5)
    assert fast.value("n_cycles") > 1000


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sign", [1, -1], ids=["up", "down"])
def test_step_extremes_take_the_first_of_repeated_extremes_and_the_last_exit_from_the_band(
    dtype, sign, monkeypatch
):
    x = np.concatenate([np.zeros(500), np.ones(20_000)])
    x[3000] = x[9000] = 1.5  # the same peak twice
    x[5000] = x[12_000] = -0.25  # the same dip twice
    last_out = 500 + 2 * 8192 - 1  # the last sample of a block of the kernel's step pass
    x[last_out] = 0.98  # on the edge of the settling band, which counts as outside
    cap = Capture.from_arrays((sign * x).astype(dtype), FS)
    fast, slow = both_paths(step_info, cap, monkeypatch, step_time_s=0.05, final_value=float(sign))
    same_values(fast, slow, 1e-12)
    assert fast.value("peak_time_s") == pytest.approx((3000 - 500) / FS)
    assert fast.value("settling_time_s") == pytest.approx((last_out + 1 - 500) / FS)


@needs_kernels
@pytest.mark.parametrize(
    "check",
    [rms, ripple, step_info, partial(is_constant, value=0.5, tol=1.0)],
    ids=["rms", "ripple", "step_info", "is_constant"],
)
def test_nan_fails_alike_on_both_paths_and_strided_rows_take_the_numpy_path(check, monkeypatch):
    x = np.sin(2 * np.pi * np.arange(40_000) / 400) + np.arange(40_000) / 4e4
    x[10_000] = np.nan
    strided = Capture.from_arrays(np.asfortranarray(np.vstack([x, x])), FS)
    for cap in (Capture.from_arrays(x, FS), strided):
        fast, slow = both_paths(check, cap, monkeypatch)
        assert [o.detail for o in fast.outcomes] == [o.detail for o in slow.outcomes]
        assert not fast and "1 non-finite samples" in fast.message


@needs_kernels
def test_the_kernels_refuse_what_they_cannot_read():
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.compiled.moments(np.zeros(10, dtype=np.int32), 0.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.compiled.moments(np.zeros((2, 2)), 0.0)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 31, 32, 33, 64, 65, 1023, 1024, 1025, 8191, 8193, 20_011])
def test_the_lane_wise_passes_find_extremes_in_every_lane_and_in_the_tail(dtype, n):
    """The passes keep one running min, max and sum per lane (64 float32 or 32 float64) and fold the
    lanes at the end: an extreme or a NaN in any lane, or in the samples past the last whole set of
    lanes, must come out."""
    k = kernels.compiled
    rng = np.random.default_rng(n)
    base = rng.uniform(-1, 1, n).astype(dtype)
    for at in sorted({0, n // 2, n - 1, max(0, n - 1 - n % 64), max(0, n - 1 - n % 32)}):
        x = base.copy()
        x[at], x[(at + n // 3) % n] = 5.0, -5.0
        lo, hi, zero = k.chunk_minmax(x, 1000)
        chunks = [x[a : a + 1000] for a in range(0, n, 1000)]
        assert np.frombuffer(lo).tolist() == [float(c.min()) for c in chunks]
        assert np.frombuffer(hi).tolist() == [float(c.max()) for c in chunks] and zero == 0
        m_lo, m_hi, s1, s2 = k.moments(x, 0.25)
        y = x.astype(np.float64) - np.float64(dtype(0.25))
        assert (m_lo, m_hi) == (float((x - dtype(0.25)).min()), float((x - dtype(0.25)).max()))
        np.testing.assert_allclose([s1, s2], [y.sum(), (y * y).sum()], rtol=1e-5, atol=1e-4)
        e_lo, e_hi, total, i_lo, i_hi, _ = k.extremes(x, -10.0, 10.0)
        assert (e_lo, e_hi, i_lo, i_hi) == (float(x.min()), float(x.max()), int(x.argmin()), int(x.argmax()))
        assert math.isfinite(total)
        x[at] = np.nan
        assert k.chunk_minmax(x, 1000)[2] != 0 and math.isnan(k.moments(x, 0.0)[2])
        assert math.isnan(k.extremes(x, -10.0, 10.0)[2])


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_searches_agree_on_exact_hits_nan_and_block_edges(dtype, monkeypatch):
    block = 8192  # the searches' blocks, counted from where a search starts
    x = np.zeros(5 * block, dtype=dtype)
    x[block - 1], x[2 * block], x[20_000], x[4 * block - 1] = 2.0, np.nan, -2.0, 1.0
    cases = [
        (0, ">=", 2.0, block - 1),
        (0, ">", 1.0, block - 1),
        (0, "<=", -2.0, 20_000),
        (0, "<", 0.0, 20_000),
        (block, ">", 0.5, 4 * block - 1),
        (0, ">=", 3.0, None),
        (20_001, "<", -1.0, None),
    ]
    for i0, op, threshold, expected in cases:
        fast, suspect = first_where(x, i0, x.size, op, threshold)
        with monkeypatch.context() as m:
            m.setattr(kernels, "compiled", None)
            slow, _ = first_where(x, i0, x.size, op, threshold)
        assert fast == slow == expected, (i0, op, threshold)
        # the kernel reports the NaN when it read the block holding it (2 blocks .. 3 blocks - 1)
        nan_read = i0 <= 2 * block and (expected is None or expected >= 2 * block)
        assert suspect == nan_read, (i0, op, threshold)


def _across_seams(seed: int, spans: float, flat: float) -> np.ndarray:
    """A noisy sine over ``spans`` spans: noise about zero over the first seam, crossings on a span's
    first and last sample, and ``flat`` with no crossing for a whole span and more."""
    span = streaming.SPAN
    rng = np.random.default_rng(seed)
    t = np.arange(int(spans * span))
    x = np.sin(2 * np.pi * t / 5000) + rng.normal(0, 0.05, t.size)
    x[: span // 2] = rng.normal(0, 1, span // 2)  # a crossing every few samples, over a seam below
    x[span - 1], x[span] = -1.0, 1.0  # fires on a span's first sample
    x[2 * span - 2], x[2 * span - 1] = -1.0, 1.0  # on its last
    x[2 * span + 100 : 3 * span + 900] = flat
    return x


def _one_scan(x: np.ndarray, fire_at: float, arm_at: float, rate_hz: float = 0.0) -> tuple:
    """The kernels' scan of a whole channel as one span."""
    ((_, scan),) = kernels.compiled.cycles_shared(
        [x], np.array([(0, 0, x.size)], np.int64), np.zeros(1, np.int64), fire_at, arm_at, 0.0, rate_hz
    )
    return scan


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hysteresis", [0.0, 0.5])
def test_a_channel_scanned_in_spans_gives_what_one_scan_gives(dtype, hysteresis):
    span = streaming.SPAN
    x = _across_seams(11, 4.5, 0.1)  # the flat part inside the hysteresis band
    x[3 * span - 1] = np.nan  # on a seam: not deciding, the state before it holds
    x = x.astype(dtype)
    scanner = EdgeScanner(0.0, hysteresis, rising=True)
    found, at, sums, total = streaming.cycle_sums(x, hysteresis)
    one = _one_scan(x, scanner.fire_at, scanner.arm_at)
    np.testing.assert_array_equal(found, np.frombuffer(one[0], np.int64))
    np.testing.assert_array_equal(at, np.frombuffer(one[1]))
    # the cycles over a seam are summed on both sides of it and added: the last digits may differ
    np.testing.assert_allclose(sums, np.frombuffer(one[2]), rtol=1e-12)
    assert found.size > 10_000 and math.isnan(total) == math.isnan(one[3])


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rms_of_a_channel_in_many_spans_gives_what_the_numpy_path_gives(dtype, monkeypatch):
    """Per-cycle RMS and start times are written span by span into one result: the cycles over a
    seam, and one open over a whole span without a crossing, come out as one scan gives them."""
    cap = Capture.from_arrays(_across_seams(12, 3.5, 0.3).astype(dtype), FS)
    fast, slow = both_paths(rms, cap, monkeypatch, low=0.5, high=0.8)
    same_values(fast, slow, 1e-9 if dtype == np.float64 else 1e-5)
    assert fast.value("n_cycles") > 10_000 and len(fast.outcomes[0].violations) > 0


@needs_kernels
@pytest.mark.parametrize(
    ("spans", "taken", "match"),
    [
        ([(2, 0, 10)], [0], r"span 0 \(row 2, \[0, 10\)\) outside the rows"),
        ([(0, -1, 10)], [0], r"span 0 \(row 0, \[-1, 10\)\)"),
        ([(0, 0, 4), (0, 5, 4)], [0], r"span 1 \(row 0, \[5, 4\)\)"),
        ([(0, 0, 11)], [0], r"span 0 \(row 0, \[0, 11\)\)"),
        ([(0, 0, 10)], [0, 0], "taken one aligned int64"),
        ([0, 0], [0], "spans are int64 rows"),
    ],
)
def test_spans_outside_the_samples_are_refused(spans, taken, match):
    rows = [np.zeros(10), np.zeros(10)]
    with pytest.raises(ValueError, match=match):
        kernels.compiled.cycles_shared(rows, np.array(spans, np.int64), np.array(taken, np.int64), 0, 0, 0)


@needs_kernels
def test_joining_spans_takes_only_what_cycles_gave():
    span = _one_scan(np.sin(np.arange(1000.0)), 0.0, 0.0, 1e3)
    assert kernels.compiled.join_cycles([span])[2] == len(span[0]) // 8
    short = (span[0], span[2], span[2], *span[3:])  # its instants one short: not one span's
    for bad in ([(b"", b"", b"", 0.0, 0.0, 0.0, 0.0)], [span[:6]], [short], [None], 3):
        with pytest.raises(TypeError, match="join_cycles"):
            kernels.compiled.join_cycles(bad)
