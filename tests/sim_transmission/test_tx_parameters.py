"""The golden transmission parameters: they load, the model uses them, and the sizing holds together
(motor max 6000 rpm, reference §4.2 [E]; 1->2 upshift up to 55 km/h, reference §2.2 TX-01 [E])."""

from __future__ import annotations

import math

import pytest
import yaml
from tx_rig import KMH, RPM, Rig, constant, params, per_throttle

from sim.transmission import GOLDEN_FILE, SECTION, Transmission, golden_parameters

MOTOR_MAX_RPM = 6000.0


def top_speed_kmh(p: dict[str, float], gear: int) -> float:
    tx = Transmission(p)
    return MOTOR_MAX_RPM * RPM / tx.ratios[gear] * tx.vehicle_speed_per_output_rad_s / KMH


def test_every_parameter_has_unit_range_and_source():
    raw = yaml.safe_load(GOLDEN_FILE.read_text(encoding="utf-8"))[SECTION]
    for name, body in raw.items():
        assert {"value", "unit", "range", "source", "doc"} <= set(body), name
    assert set(golden_parameters()) == set(raw)


def test_sizing_first_gear_reaches_past_the_highest_upshift_and_top_gear_80_to_100_kmh():
    p = golden_parameters()
    assert top_speed_kmh(p, 1) >= p["upshift_1_2_high"] / KMH + 4.0  # room for the shift itself
    assert top_speed_kmh(p, 2) >= p["upshift_2_3_high"] / KMH + 4.0
    assert 80.0 <= top_speed_kmh(p, 3) <= 100.0
    assert p["upshift_overspeed"] < MOTOR_MAX_RPM * RPM


def test_upshift_lines_leave_the_motor_inside_its_range():
    p = golden_parameters()
    tx = Transmission(p)
    for g in (1, 2):
        for throttle in (0.2, 0.5, 1.0):
            v = tx.schedule.upshift_speed(g, throttle)
            w_out = v / tx.vehicle_speed_per_output_rad_s
            assert w_out * tx.ratios[g] < p["upshift_overspeed"]  # the schedule shifts before the limit
            assert w_out * tx.ratios[g + 1] > 2000 * RPM  # and lands above a sensible motor speed


@pytest.mark.parametrize(("gears", "to_kmh"), [(2, 70.0), (4, 95.0)])
def test_other_gear_counts(gears, to_kmh):
    rig = Rig(params(gear_count=float(gears)))
    rig.run(60.0, per_throttle({1.0: 1.6}), constant(1.0), until=lambda _t, v: v >= to_kmh)
    assert rig.tx.state.current_gear == gears


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"gear_count": 2.5}, "gear_count"),
        ({"ratio_2": 1.7}, "must decrease"),
        ({"schedule_throttle_mid": 0.1}, "schedule_throttle"),
        ({"upshift_1_2_mid": 60 * KMH}, "upshift_1_2"),
    ],
)
def test_inconsistent_parameters_are_refused(override, message):
    with pytest.raises(ValueError, match=message):
        Transmission(params(**override))


def test_deterministic():
    def run() -> list[tuple[float, str, str]]:
        rig = Rig(params())
        rig.run(20.0, per_throttle({0.5: 1.3}), constant(0.5))
        return [(e.t_s, e.name, e.kind) for e in rig.tx.events]

    first, second = run(), run()
    assert first == second and len(first) >= 10
    assert all(math.isfinite(t) for t, _, _ in first)
