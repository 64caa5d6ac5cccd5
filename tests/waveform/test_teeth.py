"""Each check fails on a signal that violates it, and says where."""

import numpy as np
import pytest

from hil.waveform import (
    Capture,
    find_crossing,
    fundamental,
    harmonics,
    in_envelope,
    is_constant,
    is_first_order,
    is_ramp,
    is_step,
    ripple,
    rms,
    step_info,
    thd,
    trip_latency,
)

pytestmark = pytest.mark.usefixtures("kernel_path")

FS = 50e3
T = np.arange(100_000) / FS  # 2 s


def cap_of(*rows: np.ndarray, names: tuple[str, ...] = ("x", "y")) -> Capture:
    return Capture.from_arrays(np.vstack(rows), FS, names[: len(rows)], "V")


def test_is_constant_fails_on_a_glitch_and_locates_it():
    x = np.full(T.size, 24.0)
    x[60_000:60_050] = 30.0
    r = is_constant(cap_of(x), 24.0, 0.5)
    assert not r
    assert r["x"].violations == [(pytest.approx(1.2), pytest.approx(1.2 + 49 / FS))]
    assert "FAIL is_constant" in repr(r) and "1.2 s" in repr(r)
    assert is_constant(cap_of(x), 24.0, 0.5, strictness=0.99)
    assert is_constant(cap_of(x), 24.0, 0.5, during=(0.0, 1.1))


def test_in_envelope_fails_when_a_table_bound_tightens():
    x = np.linspace(0, 10, T.size)
    assert in_envelope(cap_of(x), upper=[(0, 1), (2, 11)])
    r = in_envelope(cap_of(x), upper=[(0, 1), (1, 1), (1.0001, 11)])
    assert not r and r["x"].violations == [(pytest.approx(0.2, abs=1 / FS), pytest.approx(1.0, abs=1e-4))]


def test_rms_fails_on_the_cycles_that_sag():
    x = np.sqrt(2) * 230 * np.sin(2 * np.pi * 50 * T) * np.where((T > 1.0) & (T < 1.2), 0.8, 1.0)
    r = rms(cap_of(x), low=220, high=240)
    assert not r
    (t0, t1), *rest = r["x"].violations
    assert 0.98 <= t0 <= 1.02 and 1.18 <= (rest[-1][1] if rest else t1) <= 1.22


def test_rms_fails_without_a_complete_cycle():
    assert not rms(cap_of(np.ones(T.size)))


def test_ripple_fails_above_its_limits():
    x = 600 + 3 * np.sin(2 * np.pi * 300 * T)
    assert ripple(cap_of(x), max_peak_to_peak=6.1, max_rms=2.2)
    assert not ripple(cap_of(x), max_peak_to_peak=5.0)
    assert not ripple(cap_of(x), max_rms=2.0)


def test_step_info_fails_on_overshoot_and_slow_settling():
    y = 1 - np.exp(-T / 0.05) * np.cos(2 * np.pi * T / 0.1)
    r = step_info(cap_of(y), max_overshoot_pct=5.0, max_settling_time_s=0.05)
    assert not r
    assert "overshoot > 5 %" in r.message and "settling time > 0.05 s" in r.message


def test_is_step_fails_when_late():
    x = np.where(T < 1.0, 0.0, 48.0)
    assert is_step(cap_of(x), 0, 48, 1.0, at_s=1.0, time_tol_s=0.01)
    assert not is_step(cap_of(x), 0, 48, 1.0, at_s=0.9, time_tol_s=0.01)


def test_is_ramp_fails_on_the_wrong_slope_or_a_kink():
    x = 5 * T
    assert is_ramp(cap_of(x), 5.0, max_deviation=1e-6)
    assert not is_ramp(cap_of(x), 6.0)
    kinked = np.where(T < 1.5, x, 7.5)
    assert not is_ramp(cap_of(kinked), 5.0, rel_tol=0.5, max_deviation=0.1)


def test_is_first_order_fails_on_the_wrong_time_constant():
    y = 10 * (1 - np.exp(-T / 0.2))
    assert is_first_order(cap_of(y), 10.0, 0.2, tau_rel_tol=0.01, max_deviation=1e-6)
    assert not is_first_order(cap_of(y), 10.0, 0.3)
    assert not is_first_order(cap_of(y), 10.0, 0.21, tau_rel_tol=0.1, max_deviation=0.05)


def test_find_crossing_fails_when_never_crossed_or_out_of_time():
    x = np.sin(2 * np.pi * T)
    assert not find_crossing(cap_of(x), 2.0)
    assert not find_crossing(cap_of(x), 0.5, within=(1.0, 1.1))
    assert find_crossing(cap_of(x), 0.5, during=(0.5, 2.0), within=(1.0, 1.1))


def test_hysteresis_ignores_noise_around_the_level():
    rng = np.random.default_rng(3)
    x = np.select([T < 0.5, T < 1.0], [0.0, -1.0], 1.0) + rng.normal(0, 0.05, T.size)
    assert find_crossing(cap_of(x), 0.0).value("time_s") < 0.5
    assert find_crossing(cap_of(x), 0.0, hysteresis=0.5).value("time_s") == pytest.approx(1.0, abs=2 / FS)


def test_trip_latency_fails_when_the_response_is_slow():
    event = np.where(T < 0.5, 0.0, 1.0)
    response = np.where(T < 0.515, 100.0, 0.0)
    cap = cap_of(event, response, names=("fault", "current"))
    r = trip_latency(cap, "fault", 0.5, "current", 50.0, max_latency_s=0.01)
    assert not r and r.value("latency_s") == pytest.approx(0.015, abs=2 / FS)
    assert trip_latency(cap, "fault", 0.5, "current", 50.0, max_latency_s=0.02)


def test_thd_and_harmonics_fail_on_a_distorted_wave():
    w = 2 * np.pi * 50 * T
    x = np.cos(w) + 0.08 * np.cos(5 * w)
    assert not thd(cap_of(x), max_thd=0.05)
    assert thd(cap_of(x), max_thd=0.09)
    r = harmonics(cap_of(x), {5: 6.0, 7: 5.0})
    assert not r and "H5" in r.message


def test_fundamental_fails_off_frequency():
    x = np.cos(2 * np.pi * 51 * T)
    assert not fundamental(cap_of(x), frequency_hz=(49.5, 50.5))
