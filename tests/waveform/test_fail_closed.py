"""Every check fails closed: a NaN or inf in its window fails it (or is ignored and counted, when asked),
and a window or instant outside the capture, or a bad channel list, is a clear error."""

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    unbalance,
)

FS = 10e3
N = 5000  # 0.5 s
T = np.arange(N) / FS
NAMES = ("ac", "a", "b", "c", "dc", "step", "ramp", "trip")


def signals() -> np.ndarray:
    w = 2 * np.pi * 50 * T
    step = np.where(T < 0.1, 0.0, 10 * (1 - np.exp(-(T - 0.1) / 0.02)))
    return np.vstack(
        [
            230 * math.sqrt(2) * np.sin(w),
            *(np.cos(w - k * 2 * np.pi / 3) for k in range(3)),
            600 + np.sin(6 * w),
            step,
            5 * T,
            np.where(T < 0.2, 100.0, 0.0),
        ]
    )


# Each check, the channels it reads, and a call that passes on signals().
CHECKS = {
    "rms": (["ac"], lambda c, **k: rms(c, "ac", low=220, high=240, **k)),
    "fundamental": (["ac"], lambda c, **k: fundamental(c, "ac", frequency_hz=(49, 51), **k)),
    "thd": (["ac"], lambda c, **k: thd(c, "ac", max_thd=0.05, **k)),
    "harmonics": (["ac"], lambda c, **k: harmonics(c, {5: 5.0}, "ac", **k)),
    "unbalance": (["a", "b", "c"], lambda c, **k: unbalance(c, ("a", "b", "c"), 2.0, **k)),
    "is_constant": (["dc"], lambda c, **k: is_constant(c, 600.0, 2.0, "dc", **k)),
    "in_envelope": (
        ["dc"],
        lambda c, **k: in_envelope(c, "dc", lower=598.0, upper=[(0, 602), (1, 603)], **k),
    ),
    "ripple": (["dc"], lambda c, **k: ripple(c, "dc", max_peak_to_peak=2.5, **k)),
    "step_info": (["step"], lambda c, **k: step_info(c, "step", step_time_s=0.1, max_overshoot_pct=5, **k)),
    "is_step": (["step"], lambda c, **k: is_step(c, 0, 10, 0.5, 0.11, "step", 0.01, 0.15, **k)),
    "is_first_order": (
        ["step"],
        lambda c, **k: is_first_order(c, 10.0, 0.02, "step", step_time_s=0.1, max_deviation=0.05, **k),
    ),
    "is_ramp": (["ramp"], lambda c, **k: is_ramp(c, 5.0, channel="ramp", max_deviation=1e-3, **k)),
    "find_crossing": (["step"], lambda c, **k: find_crossing(c, 5.0, "step", **k)),
    "trip_latency": (
        ["step", "trip"],
        lambda c, **k: trip_latency(c, "step", 5.0, "trip", 50.0, max_latency_s=0.2, **k),
    ),
}


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_passes_the_clean_signals(check, kernel_path, dtype):
    _, call = CHECKS[check]
    r = call(Capture.from_arrays(signals().astype(dtype), FS, NAMES))
    assert r, r.message


@pytest.mark.parametrize("check", CHECKS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_nonfinite_sample_fails_every_check_or_is_counted_when_ignored(check, kernel_path, dtype, data):
    channels, call = CHECKS[check]
    x = signals()
    channel = data.draw(st.sampled_from(channels), label="channel")
    positions = data.draw(st.sets(st.integers(0, N - 1), min_size=1, max_size=5), label="positions")
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]), label="value")
    x[NAMES.index(channel), sorted(positions)] = bad
    cap = Capture.from_arrays(x.astype(dtype), FS, NAMES)
    first_s = min(positions) / FS

    r = call(cap)
    assert not r
    assert f"{channel}: {len(positions)} non-finite samples" in r.message
    assert f"first at {first_s:.9g} s" in r.message
    refused = r[channel]
    assert refused.values["n_nonfinite"].value == len(positions)

    ignored = call(cap, nonfinite="ignore")
    assert ignored, ignored.message
    counts = [
        o.values["n_nonfinite_ignored"].value for o in ignored.outcomes if "n_nonfinite_ignored" in o.values
    ]
    assert counts == [len(positions)]
    assert f"{channel}: {len(positions)} non-finite samples ignored" in ignored.message


@pytest.mark.parametrize("check", CHECKS)
def test_a_channel_of_nothing_but_nan_fails_even_when_ignored(check):
    channels, call = CHECKS[check]
    x = signals()
    x[NAMES.index(channels[-1])] = np.nan
    r = call(Capture.from_arrays(x, FS, NAMES), nonfinite="ignore")
    assert not r and "no finite sample" in r.message


WINDOWS = {
    "empty": ((0.10004, 0.10006), "holds no sample"),
    "before": ((-2.0, -1.0), "lies before the capture"),
    "after": ((10.0, 11.0), "lies after the capture"),
    "straddling": ((0.0, 1.0), "lies partly outside the capture"),
}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("check", CHECKS)
def test_a_window_outside_the_capture_is_an_error_naming_it_and_the_span(check, window):
    _, call = CHECKS[check]
    during, says = WINDOWS[window]
    cap = Capture.from_arrays(signals(), FS, NAMES)
    with pytest.raises(
        ValueError, match=rf"{check}: window during=\({during[0]:.9g}, {during[1]:.9g}\) s"
    ) as e:
        call(cap, during=during)
    assert says in str(e.value) and "the capture spans 0..0.5 s (5000 samples)" in str(e.value)


@pytest.mark.parametrize("check", CHECKS)
def test_clip_checks_the_part_of_a_straddling_window_inside_the_capture(check):
    _, call = CHECKS[check]
    cap = Capture.from_arrays(signals(), FS, NAMES)
    r = call(cap, during=(0.0, 1.0), clip=True)
    assert r, r.message


def test_a_window_ending_within_the_last_sample_period_is_inside():
    cap = Capture.from_arrays(signals(), FS, NAMES)
    assert is_constant(cap, 600.0, 2.0, "dc", during=(0.25, 0.5))


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (
            lambda c: step_info(c, "step", step_time_s=0.6),
            "step_time_s=0.6 s lies outside the checked window",
        ),
        (
            lambda c: step_info(c, "step", during=(0.2, 0.4), step_time_s=0.1),
            "step_time_s=0.1 s lies outside",
        ),
        (lambda c: step_info(c, "step", step_time_s=math.nan), "step_time_s=nan is not a finite instant"),
        (lambda c: is_first_order(c, 10.0, 0.02, "step", step_time_s=-1.0), "step_time_s=-1 s lies outside"),
        (lambda c: is_step(c, 0, 10, 0.5, 0.7, "step"), "at_s=0.7 s lies outside"),
    ],
)
def test_an_instant_outside_the_window_is_an_error(call, says):
    with pytest.raises(ValueError, match=says):
        call(Capture.from_arrays(signals(), FS, NAMES))


@pytest.mark.parametrize("check", CHECKS)
def test_channel_lists_must_name_known_channels_once(check):
    cap = Capture.from_arrays(signals(), FS, NAMES)
    with pytest.raises(ValueError, match="empty list of channels"):
        rms(cap, [])
    with pytest.raises(ValueError, match=r"channels \['ac'\] named more than once"):
        ripple(cap, ["ac", "dc", "ac"])
    with pytest.raises(ValueError, match="more than once"):
        unbalance(cap, ("a", "a", "c"))
    with pytest.raises(KeyError, match="no channel 'x'"):
        is_constant(cap, 0.0, 1.0, ["dc", "x"])


@pytest.mark.parametrize("rate", [math.inf, math.nan, 0.0, -1.0])
def test_a_sample_rate_must_be_positive_and_finite(rate):
    with pytest.raises(ValueError, match="positive and finite"):
        Capture.from_arrays(np.zeros(4), rate)


def test_a_refused_channel_still_plots():
    x = signals()
    x[0, 100] = np.nan
    r = rms(Capture.from_arrays(x, FS, NAMES), "ac")
    assert not r and r.plot() is not None


def test_the_nonfinite_option_takes_only_fail_or_ignore():
    with pytest.raises(ValueError, match="nonfinite must be one of"):
        rms(Capture.from_arrays(signals(), FS, NAMES), "ac", nonfinite="skip")


# A limit, level or tolerance of NaN compares false with every sample: a check looking for samples
# beyond it would find none. Each call passes the clean signals with the number given (CHECKS).
NAN_ARGUMENTS = {
    "rms high": (lambda c, v: rms(c, "ac", low=220, high=v), "rms: high is NaN"),
    "fundamental frequency": (
        lambda c, v: fundamental(c, "ac", frequency_hz=(49, v)),
        "fundamental: frequency_high_hz is NaN",
    ),
    "thd max": (lambda c, v: thd(c, "ac", max_thd=v), "thd: max_thd is NaN"),
    "unbalance max": (lambda c, v: unbalance(c, ("a", "b", "c"), v), "unbalance: max_negative_pct is NaN"),
    "is_constant value": (lambda c, v: is_constant(c, v, 2.0, "dc"), "is_constant: value is NaN"),
    "is_constant tol": (lambda c, v: is_constant(c, 600.0, v, "dc"), "is_constant: tol is a tolerance"),
    "in_envelope constant": (lambda c, v: in_envelope(c, "dc", upper=v), "in_envelope: upper bound is NaN"),
    "in_envelope table": (
        lambda c, v: in_envelope(c, "dc", lower=[(0, 598), (1, v)]),
        "in_envelope: lower bound: its row or sample 1 is NaN",
    ),
    "in_envelope array": (
        lambda c, v: in_envelope(c, "dc", upper=np.where(T < 0.2, 602.0, v)),
        "in_envelope: upper bound: its row or sample 2000 is NaN",
    ),
    "ripple": (lambda c, v: ripple(c, "dc", max_peak_to_peak=v), "ripple: max_peak_to_peak is NaN"),
    "step_info": (
        lambda c, v: step_info(c, "step", step_time_s=0.1, max_overshoot_pct=v),
        "step_info: max_overshoot_pct is NaN",
    ),
    "is_step tol": (
        lambda c, v: is_step(c, 0, 10, v, 0.11, "step", 0.01, 0.15),
        "is_step: tol is a tolerance",
    ),
    "is_step to": (lambda c, v: is_step(c, 0, v, 0.5, 0.11, "step", 0.01, 0.15), "is_step: to_value is NaN"),
    "is_first_order": (
        lambda c, v: is_first_order(c, 10.0, 0.02, "step", step_time_s=0.1, max_deviation=v),
        "is_first_order: max_deviation is a tolerance",
    ),
    "is_ramp": (lambda c, v: is_ramp(c, 5.0, channel="ramp", max_deviation=v), "is_ramp: max_deviation is a"),
    "find_crossing": (lambda c, v: find_crossing(c, v, "step"), "find_crossing: level is NaN"),
    "trip_latency": (
        lambda c, v: trip_latency(c, "step", 5.0, "trip", 50.0, max_latency_s=v),
        "trip_latency: max_latency_s is NaN",
    ),
}


@pytest.mark.parametrize("argument", NAN_ARGUMENTS)
def test_a_nan_limit_level_or_tolerance_is_an_error_naming_it(argument):
    call, says = NAN_ARGUMENTS[argument]
    with pytest.raises(ValueError, match=re.escape(says)):
        call(Capture.from_arrays(signals(), FS, NAMES), math.nan)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: is_constant(c, 600.0, -1.0, "dc"),
        lambda c: is_step(c, 0, 10, 0.5, 0.11, "step", -0.01),
        lambda c: is_ramp(c, 5.0, -0.05, "ramp"),
    ],
)
def test_a_negative_tolerance_is_an_error(call):
    with pytest.raises(ValueError, match="is a tolerance, zero or more: got -"):
        call(Capture.from_arrays(signals(), FS, NAMES))


@pytest.mark.parametrize("nominal_hz", [0.0, -50.0, math.nan, math.inf])
def test_the_nominal_frequency_must_be_positive_and_finite(nominal_hz):
    with pytest.raises(ValueError, match="thd: nominal_hz is the supply's frequency"):
        thd(Capture.from_arrays(signals(), FS, NAMES), "ac", nominal_hz=nominal_hz)


@pytest.mark.parametrize(
    "call",
    [lambda c: thd(c, "ac"), lambda c: harmonics(c, {5: 5.0}, "ac")],
    ids=["thd", "harmonics"],
)
def test_a_channel_without_a_fundamental_fails_even_with_no_limit(call):
    x = signals()
    x[0] = 0.0  # harmonics relative to nothing are undefined, not small
    r = call(Capture.from_arrays(x, FS, NAMES))
    assert not r and "no fundamental in the window" in r.message
    with pytest.raises(KeyError, match=r"ac: no 'thd_f'.*no fundamental in the window"):
        r.value("thd_f", "ac")


def test_three_channels_of_one_phase_have_no_unbalance_to_judge():
    x = signals()
    x[NAMES.index("b")] = x[NAMES.index("c")] = x[NAMES.index("a")]
    r = unbalance(Capture.from_arrays(x, FS, NAMES), ("a", "b", "c"), max_negative_pct=None)
    assert not r and "no positive sequence" in r.message


def test_a_capture_naming_a_channel_twice_is_refused():
    with pytest.raises(ValueError, match=r"Capture.channels: \['ia'\] named more than once"):
        Capture.from_arrays(np.zeros((3, 4)), FS, ["ia", "ib", "ia"])
