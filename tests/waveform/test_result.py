import numpy as np
import pytest
from matplotlib.figure import Figure

from hil.waveform import Capture, is_constant, rms
from hil.waveform.allure_attach import result_png, violation_csv
from hil.waveform.result import add_observer, remove_observer

FS = 10e3


def glitchy() -> Capture:
    x = np.full((2, 20_000), 5.0)
    x[1, 12_000:12_100] = 9.0
    return Capture.from_arrays(x, FS, ["ok", "bad"], ["V", "V"])


def test_result_is_falsy_and_its_repr_is_the_message():
    r = is_constant(glitchy(), 5.0, 0.5)
    assert not r
    assert repr(r) == r.message and r.message.startswith("FAIL is_constant")
    assert "bad:" in r.message and "ok:" not in r.message
    assert r["ok"].passed and not r["bad"].passed
    assert r["bad"]["max"] == 9.0 and r["bad"].values["max"].unit == "V"
    assert r.limits["fraction_inside"].low == 1.0
    with pytest.raises(AssertionError, match="FAIL is_constant"):
        assert r


def test_plot_shades_the_violation_and_draws_the_limits():
    fig = is_constant(glitchy(), 5.0, 0.5).plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    shaded = [p for p in ax.patches if p.get_label() == "violation"]
    assert len(shaded) == 1
    x0, x1 = shaded[0].get_x(), shaded[0].get_x() + shaded[0].get_width()
    assert x0 <= 1.2 <= x1 <= 1.3
    assert {line.get_label() for line in ax.lines} >= {"lower", "upper"}
    assert result_png(is_constant(glitchy(), 5.0, 0.5))[:8] == b"\x89PNG\r\n\x1a\n"


def test_derived_series_is_plotted_with_its_limits():
    t = np.arange(20_000) / FS
    r = rms(Capture.from_arrays(np.sin(2 * np.pi * 50 * t), FS), low=0.8)
    assert not r
    fig = r.plot()
    assert any(line.get_label() == "RMS per cycle" for line in fig.axes[0].lines)


def test_csv_holds_the_samples_around_the_violation():
    text = violation_csv(is_constant(glitchy(), 5.0, 0.5))
    header, *rows = text.strip().splitlines()
    assert header == "time_s,ok,bad"
    values = np.array([[float(v) for v in row.split(",")] for row in rows])
    assert values[:, 0].min() < 1.2 and values[:, 0].max() > 1.21
    assert (values[:, 2] == 9.0).sum() == 100


def test_observers_see_every_result():
    seen = []
    add_observer(seen.append)
    try:
        is_constant(glitchy(), 5.0, 0.5)
    finally:
        remove_observer(seen.append)
    assert len(seen) == 1 and not seen[0]
