"""TX-01 shift schedule (reference §2.2, all limits [E]): upshift 1->2 at 30/40/55 km/h ± 2 km/h for
throttle 20/50/100 %, downshift hysteresis 5-10 km/h, no hunting (≤ 1 shift per 3 s)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tx_rig import KMH, Rig, Trace, constant, params, per_throttle

# TX-01 [E]: throttle -> upshift 1->2 speed, and the tolerance
UPSHIFT_1_2_KMH = {0.2: 30.0, 0.5: 40.0, 1.0: 55.0}
UPSHIFT_TOLERANCE_KMH = 2.0
HYSTERESIS_KMH = (5.0, 10.0)
HUNTING_WINDOW_S = 3.0
# the test vehicle: constant acceleration per throttle, as a bus in 1st gear roughly has [E]
ACCEL_M_S2 = {0.2: 1.0, 0.35: 1.1, 0.5: 1.3, 1.0: 1.6}


def accelerate(p: dict[str, float], throttle: float, to_kmh: float) -> tuple[Rig, Trace]:
    rig = Rig(p)
    trace = rig.run(60.0, per_throttle(ACCEL_M_S2), constant(throttle), until=lambda _t, v: v >= to_kmh)
    return rig, trace


def upshift_1_2_speed_kmh(trace: Trace) -> float:
    """Vehicle speed when the selected gear (ETC2 SPN 524) first reads 2."""
    return float(trace.v_kmh[np.flatnonzero(trace.selected == 2)[0]])


def check_upshift_1_2(p: dict[str, float]) -> dict[float, float]:
    measured = {}
    for throttle, expected in UPSHIFT_1_2_KMH.items():
        _, trace = accelerate(p, throttle, expected + 10.0)
        measured[throttle] = upshift_1_2_speed_kmh(trace)
        assert measured[throttle] == pytest.approx(expected, abs=UPSHIFT_TOLERANCE_KMH), (
            f"TX-01: upshift 1->2 at {throttle:.0%} throttle at {measured[throttle]:.2f} km/h, "
            f"expected {expected} ± {UPSHIFT_TOLERANCE_KMH} km/h"
        )
    return measured


def test_upshift_1_2_at_30_40_55_kmh_for_20_50_100_percent_throttle():
    measured = check_upshift_1_2(params())
    # the golden unit sits on the line; the crossing is found inside the 1 ms step
    for throttle, expected in UPSHIFT_1_2_KMH.items():
        assert measured[throttle] == pytest.approx(expected, abs=0.01)


def test_upshift_between_breakpoints_is_interpolated():
    _, trace = accelerate(params(), 0.35, 45.0)
    assert upshift_1_2_speed_kmh(trace) == pytest.approx(35.0, abs=0.01)  # halfway 30..40 km/h


def test_defect_upshift_8_kmh_late_fails_tx01():
    with pytest.raises(AssertionError, match="TX-01"):
        check_upshift_1_2(params(upshift_offset=8.0 * KMH))


def check_downshift_hysteresis(p: dict[str, float], throttle: float) -> float:
    """Accelerate past the 1->2 line, then decelerate at the same throttle until the 2->1 downshift."""
    rig, up = accelerate(p, throttle, UPSHIFT_1_2_KMH[throttle] + 5.0)
    down = rig.run(60.0, lambda _t, _thr, _k: -0.5, constant(throttle), until=lambda _t, v: v < 5.0)
    trace = up + down
    t_down = trace.first_time((trace.t > up.t[-1]) & (trace.selected == 1))
    v_down = float(np.interp(t_down, trace.t, trace.v_kmh))
    hysteresis = upshift_1_2_speed_kmh(trace) - v_down
    low, high = HYSTERESIS_KMH
    assert low <= hysteresis <= high, f"TX-01: downshift hysteresis {hysteresis:.2f} km/h, not {low}-{high}"
    return hysteresis


@pytest.mark.parametrize("throttle", sorted(UPSHIFT_1_2_KMH))
def test_downshift_hysteresis_5_to_10_kmh(throttle):
    assert check_downshift_hysteresis(params(), throttle) == pytest.approx(8.0, abs=0.05)


def test_defect_hysteresis_2_kmh_fails_tx01():
    with pytest.raises(AssertionError, match="hysteresis"):
        check_downshift_hysteresis(params(downshift_hysteresis=2.0 * KMH), 0.5)


def check_no_hunting(p: dict[str, float]) -> list[float]:
    """Speed oscillating 30..42 km/h (period 2.5 s) across both lines at 50 % throttle: the 1->2
    upshift line (40 km/h) and the 2->1 downshift line (32 km/h) are crossed every period."""
    mean, amplitude, period = 36.0 * KMH, 6.0 * KMH, 2.5
    omega = 2 * math.pi / period
    rig = Rig(p, v_kmh=(mean - amplitude) / KMH)
    trace = rig.run(20.0, lambda t, _thr, _k: amplitude * omega * math.sin(omega * t), constant(0.5))
    starts = [e.t_s for e in trace.events_of("start")]
    assert len(starts) >= 3, "the speed profile must provoke shifts for the check to mean anything"
    gaps = np.diff(starts)
    assert gaps.min() >= HUNTING_WINDOW_S, f"TX-01: hunting, shift starts {gaps.min():.2f} s apart"
    return starts


def test_no_hunting_at_most_one_shift_per_3_s():
    check_no_hunting(params())


def test_defect_no_dwell_hunts_and_fails_tx01():
    with pytest.raises(AssertionError, match="hunting"):
        check_no_hunting(params(min_shift_interval=0.0))


def test_no_upshift_while_braking():
    rig = Rig(params(), v_kmh=25.0)
    trace = rig.run(5.0, lambda _t, _thr, _k: 1.0, constant(0.2), brake=True)  # rolling downhill, braking
    assert trace.v_kmh[-1] > 40.0 and set(trace.selected.tolist()) == {1}
