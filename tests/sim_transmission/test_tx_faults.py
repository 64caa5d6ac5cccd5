"""The transmission's faults: the table (J1939-73 SPN/FMI ranges [R]) and each monitor's exact set and
clear instants, so a monitor that is 40 ms slow is measurable to well under 1 ms."""

from __future__ import annotations

import pytest
from tx_rig import Rig, constant, params, per_throttle

from sim.transmission import FAULTS

PROPRIETARY_SPNS = range(520192, 524288)  # J1939: manufacturer-assigned SPNs [R]


def test_fault_table_codes_are_valid_j1939():
    for name, code in FAULTS.items():
        assert 0 <= code.spn < 2**19 and 0 <= code.fmi <= 31, name
        assert code.lamp in {"amber", "red"}, name
        assert code.spn in PROPRIETARY_SPNS or code.spn < 520192, name
    assert any(code.spn > 0xFFFF for code in FAULTS.values())  # exercises the split SPN encoding
    assert len({(c.spn, c.fmi) for c in FAULTS.values()}) == len(FAULTS)


def fault_events(events, name):
    return [(e.kind, e.t_s) for e in events if e.name == name]


def test_synchronisation_failure_sets_red_fault_at_timeout_and_falls_back_to_the_old_gear():
    p = params()
    rig = Rig(p, v_kmh=25.0)
    # the drive ignores the first speed-control request; the motor coasts at the old gear's speed
    trace = rig.run(6.0, per_throttle({0.2: 1.0}), constant(0.2), motor_follows=lambda t: t > 3.0)
    by_kind = {}
    for e in trace.events:
        by_kind.setdefault((e.name, e.kind), e.t_s)
    t_neutral = by_kind[("shift_1_2", "neutral")]
    assert fault_events(trace.events, "synchronisation_failed") == [
        ("set", pytest.approx(t_neutral + p["sync_timeout"], abs=1e-9)),
        ("clear", pytest.approx(by_kind[("shift_1_1", "end")], abs=1e-9)),
    ]
    assert FAULTS["synchronisation_failed"].lamp == "red"
    assert by_kind[("shift_1_1", "retarget")] == pytest.approx(t_neutral + p["sync_timeout"], abs=1e-9)
    # back in 1st; once the dwell allows, the next attempt (drive obeying now) reaches 2nd
    assert [e.name for e in trace.events_of("end")] == ["shift_1_1", "shift_1_2"]
    assert rig.tx.state.current_gear == 2 and rig.tx.active_faults == frozenset()


def test_shift_timeout_when_no_gear_synchronises():
    p = params()
    rig = Rig(p, v_kmh=25.0)
    # rolling resistance slows the bus in neutral, so not even the old gear stays synchronised
    trace = rig.run(
        4.0, lambda _t, _thr, scale: 1.0 * scale - 0.3, constant(0.2), motor_follows=lambda t: t > 3.5
    )
    start = trace.events_of("start")[0].t_s
    assert fault_events(trace.events, "shift_timeout")[0] == (
        "set",
        pytest.approx(start + p["shift_timeout"]),
    )
    assert [k for k, _ in fault_events(trace.events, "synchronisation_failed")] == ["set", "clear"]
    assert [k for k, _ in fault_events(trace.events, "shift_timeout")] == ["set", "clear"]
    assert rig.tx.state.shift_in_process is False and rig.tx.active_faults == frozenset()
    times = [e.t_s for e in rig.tx.events]
    assert times == sorted(times)


def test_gear_ratio_implausible_set_and_clear_at_interpolated_instants():
    p = params()
    rig = Rig(p, gear=2, v_kmh=40.0)

    def slip(t: float) -> float:  # ratio error rising 10 %/s from 1.0 s to a 15 % peak, then falling
        return max(0.0, 0.1 * (t - 1.0)) if t < 2.5 else max(0.0, 0.15 - 0.1 * (t - 2.5))

    trace = rig.run(5.0, lambda _t, _thr, _k: 0.0, constant(0.2), ratio_error=slip)
    # 5 % crossed at 1.5 s (rising) and 3.5 s (falling); set after the 0.5 s ratio_check_delay
    assert fault_events(trace.events, "gear_ratio_implausible") == [
        ("set", pytest.approx(1.5 + p["ratio_check_delay"], abs=1e-6)),
        ("clear", pytest.approx(3.5, abs=1e-6)),
    ]


def test_defect_slow_ratio_monitor_is_measurable():
    rig = Rig(params(ratio_check_delay=0.54), gear=2, v_kmh=40.0)
    trace = rig.run(
        3.0, lambda _t, _thr, _k: 0.0, constant(0.2), ratio_error=lambda t: max(0.0, 0.1 * (t - 1.0))
    )
    (kind, t_set), *_ = fault_events(trace.events, "gear_ratio_implausible")
    assert kind == "set" and t_set - 1.5 == pytest.approx(0.54, abs=1e-6)  # 40 ms late, seen to 1 µs
