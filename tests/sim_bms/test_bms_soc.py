"""SOC against BMS-05: coulomb counting with the current sensor's errors (0.5 A offset on 200 Ah
⇒ 0.25 %/h drift [E]) and OCV re-calibration only after ≥ 1 h rest and only outside the 30–80 %
plateau [R]/[E]; OCV table reference §3.2 [S]."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from sim.bms import OcvTable

CYCLE_S = 2 * 3600.0  # BMS-05: a 2 h drive cycle
DT_S = 0.5


def drive_cycle_a(t_s: float) -> float:
    """80 A mean with ± 150 A swings every 2 min: 160 Ah (80 % of 200 Ah) out in 2 h, regen included."""
    return 80.0 + 150.0 * math.sin(2 * math.pi * t_s / 120.0)


def soc_errors(rig: Any, bms_params: dict, hours: tuple[float, ...]) -> list[float]:
    """Run the drive cycle; the BMS's SOC minus the true Ah-integral SOC at each of ``hours``."""
    capacity, efficiency = bms_params["capacity"], bms_params["coulombic_efficiency"]
    reference = rig.bms.state.soc
    errors = []
    marks = [round(h * 3600 / DT_S) for h in hours]
    for k in range(1, marks[-1] + 1):
        current = drive_cycle_a((k - 1) * DT_S)
        rig.pack_current_a = current
        rig.step(DT_S)
        reference -= current * DT_S * (efficiency if current < 0 else 1.0) / capacity
        if k in marks:
            errors.append(rig.bms.state.soc - reference)
    return errors


def soc_within_budget(rig: Any, bms_params: dict) -> bool:
    """The SOC check: |BMS SOC − reference| ≤ 2 % at the end of the 2 h cycle [E]. Tighter than
    BMS-05's 5 %: a gain error alone adds at most gain × depth of discharge, so 5 % cannot catch
    a 3 % gain within one discharge (2.4 % here). BMS-05's 0.5 A offset (0.5 %) and 1 % gain
    (0.8 %) stay inside; its 2 A offset lands on the limit (2.0 %)."""
    (error,) = soc_errors(rig, bms_params, (2.0,))
    return abs(error) <= 0.02


@pytest.fixture
def start_high(make_rig: Callable) -> Callable:
    def make(**overrides: float) -> Any:
        return make_rig(initial_soc=0.9, **overrides)

    return make


def test_golden_sensor_tracks_the_reference(start_high: Callable, bms_params: dict) -> None:
    (error,) = soc_errors(start_high(), bms_params, (2.0,))
    assert abs(error) < 1e-4


def test_offset_0_5_a_drifts_0_25_percent_per_hour(start_high: Callable, bms_params: dict) -> None:
    # BMS-05: 0.5 A offset on 200 Ah ⇒ 0.25 %/h; the BMS counts it as extra discharge
    after_1h, after_2h = soc_errors(start_high(current_offset=0.5), bms_params, (1.0, 2.0))
    assert after_2h - after_1h == pytest.approx(-0.0025, rel=0.02)
    assert after_2h == pytest.approx(-0.005, rel=0.02)


def test_soc_check_passes_golden_and_injected_errors(start_high: Callable, bms_params: dict) -> None:
    assert soc_within_budget(start_high(), bms_params)
    assert soc_within_budget(start_high(current_offset=0.5), bms_params)
    assert soc_within_budget(start_high(current_gain_error=0.01), bms_params)


def test_defect_gain_plus_3_percent_fails_the_soc_check(start_high: Callable, bms_params: dict) -> None:
    assert not soc_within_budget(start_high(current_gain_error=0.03), bms_params)


def rest(rig: Any, cell_v: float, seconds: float) -> None:
    rig.inputs.cell_voltages_v = [cell_v] * rig.bms.n_cells
    rig.pack_current_a = 0.0
    rig.run(seconds, dt_s=1.0)


def test_ocv_correction_after_an_hour_of_rest_below_the_plateau(make_rig: Callable, bms_params: dict) -> None:
    ocv = OcvTable.from_params(bms_params)
    rig = make_rig(initial_soc=0.40)
    rest(rig, ocv.ocv(0.20), 3590.0)
    assert rig.bms.state.soc == pytest.approx(0.40)  # 1 h not yet reached
    rest(rig, ocv.ocv(0.20), 20.0)
    assert rig.bms.state.soc == pytest.approx(0.20, abs=0.005)
    (corrected,) = rig.events("soc_ocv_correction")
    assert corrected == pytest.approx(bms_params["ocv_rest"], abs=1.0)


def test_no_ocv_correction_on_the_plateau(make_rig: Callable, bms_params: dict) -> None:
    ocv = OcvTable.from_params(bms_params)
    rig = make_rig(initial_soc=0.40)
    rest(rig, ocv.ocv(0.60), 7200.0)  # 20 % away, but on the plateau: the OCV cannot tell
    assert rig.bms.state.soc == pytest.approx(0.40)
    assert rig.events("soc_ocv_correction") == []


def test_no_ocv_correction_without_a_full_rest(make_rig: Callable, bms_params: dict) -> None:
    ocv = OcvTable.from_params(bms_params)
    rig = make_rig(initial_soc=0.40)
    for _ in range(4):  # 50 min rests broken by 5 A for 10 s
        rest(rig, ocv.ocv(0.90), 3000.0)
        rig.pack_current_a = 5.0
        rig.run(10.0, dt_s=1.0)
    assert rig.events("soc_ocv_correction") == []


def test_rest_time_is_a_parameter(make_rig: Callable, bms_params: dict) -> None:
    ocv = OcvTable.from_params(bms_params)
    rig = make_rig(initial_soc=0.40, ocv_rest=600.0)
    rest(rig, ocv.ocv(0.95), 610.0)
    assert rig.bms.state.soc == pytest.approx(0.95, abs=0.005)
