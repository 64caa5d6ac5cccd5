"""Drive cycles as data: the packaged trace is the published one, and a bad file is refused by line."""

from __future__ import annotations

import numpy as np
import pytest

from hil.models.cycle import DriveCycle


def test_braunschweig_is_the_published_trace():
    cycle = DriveCycle.braunschweig()
    assert "m0in92/EV_sim" in cycle.source and "EV_sim/data/drive_cycles/bcdc.csv" in cycle.source
    np.testing.assert_array_equal(np.diff(cycle.time_s), 1.0)  # 1 Hz
    assert cycle.duration_s == 1740.0
    # published characteristics: 10.87 km, 58.2 km/h peak, 22.5 km/h mean over the cycle
    assert cycle.distance_km == pytest.approx(10.87, abs=0.01)
    assert cycle.max_speed_kmh == pytest.approx(58.26, abs=0.01)
    assert cycle.distance_km / cycle.duration_s * 3600 == pytest.approx(22.5, abs=0.05)
    assert cycle.speed_kmh[0] == 0.0 and cycle.speed_kmh[-1] == 0.0
    # spot values as the source gives them, in mph
    for t, mph in ((11, 2.67), (142, 32.1), (230, 36.2), (1355, 6.03), (1729, 1.43)):
        assert cycle.speed_kmh[t] == pytest.approx(mph * 1.609344, rel=1e-12)


def test_target_speed_and_slope_between_samples():
    cycle = DriveCycle.braunschweig()
    assert cycle.speed_kmh_at(11.5) == pytest.approx((2.67 + 5.1) / 2 * 1.609344)
    assert cycle.acceleration_mps2_at(11.5) == pytest.approx((5.1 - 2.67) * 1.609344 / 3.6)
    assert cycle.speed_kmh_at(-1.0) == 0.0 and cycle.speed_kmh_at(1741.0) == 0.0


def test_a_segment_is_retimed_from_zero():
    cycle = DriveCycle.braunschweig()
    part = cycle.segment(190.5, 260.0)
    assert part.time_s[0] == 0.0 and part.duration_s == pytest.approx(69.5)
    assert part.speed_kmh_at(9.5) == pytest.approx(cycle.speed_kmh_at(200.0))
    with pytest.raises(ValueError, match="segment"):
        cycle.segment(100.0, 2000.0)


def test_an_unknown_cycle_names_the_packaged_ones():
    with pytest.raises(ValueError, match="braunschweig"):
        DriveCycle.load("nedc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time_s,speed_kmh\n0,0\n1,5\n", "no comment lines"),
        ("# src\ntime,speed\n0,0\n1,2\n", ":2: header"),
        ("# src\ntime_s,speed_kmh\n0,0\n1,x\n", ":4: '1,x'"),
        ("# src\ntime_s,speed_kmh\n0,0\n2,1\n2,3\n", ":5: time 2 does not rise"),
        ("# src\ntime_s,speed_kmh\n0,0\n1,-1\n", ":4: '1,-1'"),
        ("# src\ntime_s,speed_kmh\n1,0\n2,1\n", "starting at time 0"),
    ],
)
def test_a_bad_cycle_file_is_refused_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as caught:
        DriveCycle.load(path)
    assert str(path) in str(caught.value)


def test_a_cycle_in_kmh_loads_unconverted(tmp_path):
    path = tmp_path / "ramp.csv"
    path.write_text("# a test ramp\ntime_s,speed_kmh\n0,0\n10,36\n")
    cycle = DriveCycle.load(path)
    assert cycle.name == "ramp" and cycle.speed_kmh_at(5.0) == 18.0 and cycle.source == "a test ramp"
