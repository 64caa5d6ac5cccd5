"""Every check agrees with the straightforward full-array version (reference.py), python-control and
known signals."""

import math

import control
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.waveform import (
    Capture,
    find_crossing,
    fundamental,
    in_envelope,
    is_constant,
    is_ramp,
    ripple,
    rms,
    step_info,
    thd,
    unbalance,
)
from hil.waveform import reference as ref
from hil.waveform.spectral import harmonic_groups

pytestmark = pytest.mark.usefixtures("kernel_path")

FS = 100e3


def ac(n: int, rng: np.random.Generator, dtype: type, f: float = 50.3, noise: float = 0.3) -> np.ndarray:
    """A modulated sine; the default noise makes extra zero crossings, which both versions must agree on."""
    t = np.arange(n) / FS
    x = 10 * np.sin(2 * np.pi * f * t + 0.4) * (1 + 0.2 * np.sin(2 * np.pi * 3 * t)) + rng.normal(0, noise, n)
    return x.astype(dtype)


@pytest.mark.usefixtures("chunk_bytes")
def test_rms_per_cycle_matches_reference(dtype, rtol, rng):
    x = ac(300_000, rng, dtype)
    cap = Capture.from_arrays(x, FS)
    r = rms(cap)
    crossings, expected = ref.rms_per_cycle(x)
    np.testing.assert_allclose(r.value("per_cycle"), expected, rtol=rtol)
    assert r.value("n_cycles") == crossings.size - 1


@pytest.mark.usefixtures("chunk_bytes")
def test_is_constant_counts_and_locates_like_reference(dtype, rng):
    x = (5 + rng.normal(0, 1, 200_000)).astype(dtype)
    cap = Capture.from_arrays(x, FS)
    r = is_constant(cap, 5.0, 2.0, strictness=0.9)
    count, runs = ref.outside_band(x, 3.0, 7.0)
    assert r.value("fraction_inside") == pytest.approx(1 - count / x.size, abs=0)
    assert r.value("n_violations") == len(runs)
    first = runs[: len(r.outcomes[0].violations)]
    np.testing.assert_allclose(np.array(r.outcomes[0].violations), first / FS, rtol=0, atol=1e-12)
    assert r, r.message


@pytest.mark.usefixtures("chunk_bytes")
def test_in_envelope_with_table_and_array_bounds_matches_reference(dtype, rng):
    n = 150_000
    t = np.arange(n) / FS
    x = (np.sin(2 * np.pi * 7 * t) + rng.normal(0, 0.05, n)).astype(dtype)
    table = [(0.0, 0.9), (0.5, 1.2), (1.0, 0.95), (1.5, 1.1)]
    upper = np.interp(t, *zip(*table, strict=True))
    cap = Capture.from_arrays(x, FS)
    count, runs = ref.outside_band(x, -upper, upper)
    by_table = in_envelope(cap, lower=[(a, -b) for a, b in table], upper=table, strictness=0.5)
    by_array = in_envelope(cap, lower=-upper, upper=upper, strictness=0.5)
    for r in (by_table, by_array):
        assert r.value("fraction_inside") == 1 - count / n
        assert r.value("n_violations") == len(runs)


@pytest.mark.usefixtures("chunk_bytes")
def test_ripple_matches_reference_on_a_large_dc_level(dtype, rtol, rng):
    t = np.arange(250_000) / FS
    x = (600 + 1.5 * np.sin(2 * np.pi * 300 * t) + rng.normal(0, 0.2, t.size)).astype(dtype)
    r = ripple(Capture.from_arrays(x, FS))
    p2p, ac_rms, mean = ref.ripple(x)
    assert r.value("peak_to_peak") == pytest.approx(p2p, rel=rtol)
    assert r.value("rms") == pytest.approx(ac_rms, rel=rtol)
    assert r.value("mean") == pytest.approx(mean, rel=rtol)


@pytest.mark.usefixtures("chunk_bytes")
@pytest.mark.parametrize("seed", range(5))
def test_find_crossing_matches_reference_and_is_within_a_sample(dtype, seed):
    rng = np.random.default_rng(seed)
    n = 100_000
    t0 = rng.uniform(0.1, 0.9) * n / FS
    t = np.arange(n) / FS
    x = np.tanh((t - t0) * 300).astype(dtype)
    level = float(rng.uniform(-0.5, 0.5))
    r = find_crossing(Capture.from_arrays(x, FS), level)
    exact = t0 + np.arctanh(level) / 300
    assert abs(r.value("time_s") - exact) < 1 / FS
    assert r.value("time_s") == pytest.approx(ref.first_crossing_time(x, level, FS), rel=1e-9)
    falling = find_crossing(Capture.from_arrays(-x, FS), -level, direction="falling")
    assert falling.value("time_s") == pytest.approx(r.value("time_s"), rel=1e-9)


@pytest.mark.parametrize("direction", ["rising", "falling", "either"])
def test_find_crossing_fails_on_a_nan_or_ignores_it_and_takes_the_earlier_direction(dtype, direction):
    x = np.sin(2 * np.pi * np.arange(40_000) / 400).astype(dtype)
    x[10] = np.nan  # in the same chunk as the first crossings
    cap = Capture.from_arrays(x, FS)
    assert not find_crossing(cap, 0.5, direction=direction)
    r = find_crossing(cap, 0.5, direction=direction, nonfinite="ignore")
    # sin reaches 0.5 at sample 33.3 and leaves it at 166.7
    first = {"rising": 34, "falling": 167, "either": 34}[direction]
    assert r.value("index") == first and r.value("n_nonfinite_ignored") == 1


def test_fundamental_matches_reference(dtype, rtol, rng):
    x = ac(200_000, rng, dtype, f=49.7, noise=0.002)
    r = fundamental(Capture.from_arrays(x, FS))
    f, amp, phase = ref.fundamental(x, FS)
    assert r.value("frequency_hz") == pytest.approx(f, rel=1e-9)
    assert r.value("amplitude") == pytest.approx(amp, rel=rtol)
    assert r.value("phase_deg") == pytest.approx(phase, rel=rtol, abs=1e-6)


def test_fundamental_recovers_a_clean_sine():
    t = np.arange(100_000) / FS
    x = 3.0 * np.cos(2 * np.pi * 60 * t + 0.5)
    r = fundamental(Capture.from_arrays(x, FS))
    assert r.value("frequency_hz") == pytest.approx(60, rel=1e-6)
    assert r.value("amplitude") == pytest.approx(3.0, rel=1e-4)
    assert r.value("phase_deg") == pytest.approx(math.degrees(0.5), abs=0.05)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    f=st.floats(45.0, 65.0),
    fs=st.floats(4.0, 7.0).map(lambda e: 10.0**e),
    phase=st.floats(-math.pi, math.pi),
    amplitude=st.floats(1e-3, 1e4),
)
def test_fundamental_of_a_clean_sine_is_exact_to_1e_6_at_any_phase_and_rate(dtype, f, fs, phase, amplitude):
    t = np.arange(int(0.2 * fs)) / fs
    x = (amplitude * np.cos(2 * np.pi * f * t + phase)).astype(dtype)
    r = fundamental(Capture.from_arrays(x, fs, start_s=0.0))
    assert r.value("frequency_hz") == pytest.approx(f, rel=1e-6)
    assert r.value("amplitude") == pytest.approx(amplitude, rel=1e-6)
    error = math.radians(r.value("phase_deg")) - phase
    assert abs(math.remainder(error, 2 * math.pi)) < 1e-5


def test_fundamental_window_is_whole_cycles_not_the_samples_between_crossings():
    # 200 samples a cycle, a crossing on a sample: the plain DFT over [first, last crossing) read 325.18.
    t = np.arange(10_000) / 10e3
    r = fundamental(Capture.from_arrays(325 * np.cos(2 * np.pi * 50 * t), 10e3))
    assert r.value("amplitude") == pytest.approx(325, rel=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.floats(0.001, 0.3), low=st.sampled_from("abc"), phase=st.floats(-math.pi, math.pi))
def test_unbalance_of_one_phase_k_low_is_the_analytic_negative_sequence(k, low, phase):
    # IEC 61000-4-30: u2 = |U2| / |U1|; one phase of a balanced set scaled by (1 - k) gives k / (3 - k).
    t = np.arange(5000) / 10e3
    w = 2 * np.pi * 50 * t + phase
    x = np.vstack([(1 - k if p == low else 1.0) * np.cos(w - i * 2 * np.pi / 3) for i, p in enumerate("abc")])
    r = unbalance(Capture.from_arrays(x, 10e3, ["a", "b", "c"]), ("a", "b", "c"), None)
    assert r.value("negative_sequence_pct") == pytest.approx(100 * k / (3 - k), rel=1e-6)


def test_rms_of_float32_squares_that_overflow_float32():
    t = np.arange(20_000) / FS
    x = (1e20 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    r = rms(Capture.from_arrays(x, FS))
    wide = rms(Capture.from_arrays(x.astype(np.float64), FS))
    assert r.value("rms") == pytest.approx(1e20 / math.sqrt(2), rel=1e-3)
    np.testing.assert_allclose(r.value("per_cycle"), wide.value("per_cycle"), rtol=1e-6)


@pytest.mark.parametrize("f", [50.0, 49.95, 50.05])
def test_thd_recovers_injected_harmonics_within_0p1_percent(dtype, rng, f):
    t = np.arange(400_000) / FS
    amps = {3: 0.05, 5: 0.04, 7: 0.02, 11: 0.01, 13: 0.005}
    x = np.cos(2 * np.pi * f * t) + sum(a * np.cos(2 * np.pi * h * f * t + h) for h, a in amps.items())
    x = (x + rng.normal(0, 0.001, t.size)).astype(dtype)
    cap = Capture.from_arrays(x, FS)
    r = thd(cap)
    expected = math.sqrt(sum(a * a for a in amps.values()))
    assert abs(r.value("thd_f") - expected) < 0.001
    assert r.value("thd_r") == pytest.approx(expected / math.sqrt(1 + expected**2), abs=0.001)
    groups, _, _ = harmonic_groups(cap)
    pct = np.sqrt(np.mean(groups[0] ** 2, axis=0))
    for h, a in amps.items():
        assert abs(pct[h] / pct[1] - a) < 0.001


def test_thd_matches_reference(dtype, rng):
    x = ac(400_000, rng, dtype, f=50.0)
    assert thd(Capture.from_arrays(x, FS)).value("thd_f") == pytest.approx(ref.thd_f(x, FS), rel=1e-6)


@pytest.mark.parametrize(
    ("num", "den", "gain"),
    [
        ([100.0], [1, 8, 100], 1.0),
        ([4.0], [1, 1.2, 4], -3.0),
        ([1.0], [0.05, 1], 2.0),
        ([50.0], [1, 20, 50], 1.0),
    ],
)
def test_step_info_agrees_with_python_control(num, den, gain, dtype, rtol):
    t = np.arange(40_000) / 1e4
    _, y = control.step_response(control.tf(num, den) * gain, t)
    y = y.astype(dtype)
    yfinal = float(y[-1])
    expected = control.step_info(y.astype(np.float64), t, yfinal=yfinal)
    r = step_info(Capture.from_arrays(y, 1e4), final_value=yfinal, initial_value=0.0)
    assert r.value("rise_time_s") == pytest.approx(expected["RiseTime"], rel=1e-9)
    assert r.value("settling_time_s") == pytest.approx(expected["SettlingTime"], rel=1e-9)
    assert r.value("overshoot_pct") == pytest.approx(expected["Overshoot"], rel=rtol, abs=1e-9)
    assert r.value("undershoot_pct") == pytest.approx(expected["Undershoot"], rel=rtol, abs=1e-9)
    assert r.value("settling_min") == pytest.approx(expected["SettlingMin"], rel=rtol)
    assert r.value("settling_max") == pytest.approx(expected["SettlingMax"], rel=rtol)
    assert abs(r.value("peak")) == pytest.approx(expected["Peak"], rel=rtol)
    assert r.value("peak_time_s") == pytest.approx(expected["PeakTime"], rel=1e-9)


def test_step_info_handles_a_nonzero_initial_value_and_times_from_the_step():
    t = np.arange(30_000) / 1e4
    _, y = control.step_response(control.tf([100.0], [1, 8, 100]), t)
    base = step_info(Capture.from_arrays(y, 1e4), final_value=float(y[-1]))
    shifted = np.concatenate([np.full(5000, 0.0), y]) * 200 + 400  # 400 -> 600 step at t = 0.5 s
    r = step_info(Capture.from_arrays(shifted, 1e4), step_time_s=0.5, target=600.0)
    assert r.value("initial") == pytest.approx(400)
    assert r.value("rise_time_s") == pytest.approx(base.value("rise_time_s"), abs=2e-4)
    assert r.value("overshoot_pct") == pytest.approx(base.value("overshoot_pct"), rel=1e-3)
    assert r.value("settling_time_s") == pytest.approx(base.value("settling_time_s"), abs=2e-4)
    assert abs(r.value("steady_state_error")) < 0.1


@pytest.mark.usefixtures("chunk_bytes")
def test_ramp_slope_matches_least_squares(dtype, rtol, rng):
    t = np.arange(200_000) / FS
    x = (12.5 * t - 3 + rng.normal(0, 0.5, t.size)).astype(dtype)
    r = is_ramp(Capture.from_arrays(x, FS), 12.5, rel_tol=0.05)
    assert r.value("slope") == pytest.approx(ref.ramp_slope(x, FS), rel=1e-9)
    assert r


def test_unbalance_of_a_known_negative_sequence():
    t = np.arange(100_000) / FS
    w = 2 * np.pi * 50 * t
    pos = [np.cos(w - k * 2 * np.pi / 3) for k in range(3)]
    neg = [0.03 * np.cos(w + k * 2 * np.pi / 3) for k in range(3)]
    x = np.vstack([p + q for p, q in zip(pos, neg, strict=True)])
    r = unbalance(Capture.from_arrays(x, FS, ["a", "b", "c"]), ("a", "b", "c"), max_negative_pct=2.0)
    assert r.value("negative_sequence_pct") == pytest.approx(3.0, abs=0.01)
    assert r.value("zero_sequence_pct") == pytest.approx(0.0, abs=0.01)
    assert not r
