import numpy as np
import pytest

from hil.waveform import Capture


def make() -> Capture:
    x = np.arange(30, dtype=np.float64).reshape(3, 10)
    return Capture.from_arrays(x, 10.0, ["a", "b", "c"], ["V", "A", "rpm"], start_s=1.0)


def test_select_by_name_is_a_view_with_its_unit():
    cap = make()
    b = cap["b"]
    assert b.channels == ("b",) and b.units == ("A",)
    assert np.shares_memory(b.samples, cap.samples)
    assert cap[["c", "a"]].units == ("rpm", "V")


def test_window_is_closed_and_keeps_the_time_axis():
    cap = make()
    w = cap.during(1.2, 1.5)
    assert w.start_s == pytest.approx(1.2)
    np.testing.assert_array_equal(w.channel("a"), [2, 3, 4, 5])
    assert np.shares_memory(w.samples, cap.samples)


def test_window_outside_the_capture_is_clamped_and_reversed_window_rejected():
    cap = make()
    assert cap.index_range((-np.inf, np.inf)) == (0, 10)
    with pytest.raises(ValueError, match="ends before it starts"):
        cap.index_range((2.0, 1.0))


def test_unknown_channel_names_the_channels_there_are():
    with pytest.raises(KeyError, match="'a', 'b', 'c'"):
        make()["x"]


def test_rejects_integer_and_badly_shaped_samples():
    with pytest.raises(ValueError, match="dtype"):
        Capture(np.zeros((1, 4), dtype=np.int16), 1.0, ("a",), ("V",))
    with pytest.raises(ValueError, match="names"):
        Capture(np.zeros((2, 4)), 1.0, ("a",), ("V",))


def test_from_arrays_keeps_float32():
    cap = Capture.from_arrays(np.zeros(8, dtype=np.float32), 1e3)
    assert cap.dtype == np.float32 and cap.samples.shape == (1, 8)
