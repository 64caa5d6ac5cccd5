"""Insulation monitoring against BMS-09: warning below 500 Ω/V [R], fault below 100 Ω/V of pack
voltage [S: GB 18384 as used by an open BMS], on either HV+ or HV− to chassis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def insulate(rig: Any, ohm: float, side: str, seconds: float = 2.0) -> None:
    rig.inputs.insulation_hv_pos_ohm = ohm if side == "pos" else 1e7
    rig.inputs.insulation_hv_neg_ohm = ohm if side == "neg" else 1e7
    rig.run(seconds, dt_s=1e-2)


@pytest.mark.parametrize("side", ["pos", "neg"])
def test_thresholds_per_volt_of_pack(make_rig: Callable, side: str) -> None:
    rig = make_rig()
    volts = rig.source_v
    insulate(rig, 1e6, side)  # BMS-09 start: 1 MΩ
    assert rig.bms.events == []
    insulate(rig, 520 * volts, side)
    assert rig.bms.events == []
    insulate(rig, 480 * volts, side)
    assert rig.events("insulation_warning", "warn") and not rig.bms.state.fault_active
    insulate(rig, 105 * volts, side)
    assert rig.events("insulation_fault") == []
    insulate(rig, 95 * volts, side)
    assert rig.events("insulation_fault", "set") and rig.bms.state.fault_active


def test_fault_opens_the_contactors_and_clears_on_reset_once_restored(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    insulate(rig, 50 * rig.source_v, "pos")  # BMS-09 end: 50 Ω/V
    assert rig.bms.state.contactor_command.main is False
    rig.inputs.reset = True
    insulate(rig, 50 * rig.source_v, "pos", seconds=0.01)
    assert "insulation_fault" in rig.bms.active_faults  # still faulty: the reset does nothing
    insulate(rig, 1e6, "pos")
    rig.inputs.reset = True
    rig.run(0.01)
    assert rig.bms.active_faults == frozenset()


def test_measurement_gain_error_moves_the_reading_and_the_thresholds(make_rig: Callable) -> None:
    rig = make_rig(insulation_gain_error=0.2)
    insulate(rig, 450 * rig.source_v, "neg")  # reads 540 Ω/V: no warning, though it is below 500
    assert rig.bms.state.insulation_ohm == pytest.approx(540 * rig.source_v)
    assert rig.events("insulation_warning") == []
