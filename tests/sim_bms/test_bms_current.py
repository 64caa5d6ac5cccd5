"""Over-current (BMS-03 [E]) through the closed HV path: open if above the allowed current for
more than 10 s, or above 3C for more than 1 s."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.bms import Contactors, ContactorState


def test_above_the_limit_opens_after_10_s(make_rig: Callable, bms_params: dict) -> None:
    allowed = bms_params["max_discharge_c_rate"] * bms_params["capacity"]
    rig = make_rig()
    rig.close()
    start = rig.t
    rig.link_load = lambda v: 1.2 * allowed  # BMS-03 stimulus: 1.2 × allowed discharge current
    rig.run(9.5, dt_s=1e-2)
    assert rig.bms.state.contactor_state is ContactorState.CLOSED
    rig.run(1.0, dt_s=1e-2)
    (trip,) = rig.events("overcurrent", "set")
    assert trip - start == pytest.approx(bms_params["overcurrent_limit_time"], abs=0.02)
    assert rig.bms.state.contactor_state is ContactorState.ERROR
    rig.run(0.1)
    assert rig.hv.aux_contacts == Contactors()


def test_above_3c_opens_after_1_s(make_rig: Callable, bms_params: dict) -> None:
    three_c = 3 * bms_params["capacity"] / 3600.0
    rig = make_rig()
    rig.close()
    start = rig.t
    rig.link_load = lambda v: 1.1 * three_c
    rig.run(1.2)
    (trip,) = rig.events("overcurrent", "set")
    assert trip - start == pytest.approx(bms_params["overcurrent_peak_time"], abs=0.002)


def test_within_the_limit_runs_on(make_rig: Callable, bms_params: dict) -> None:
    rig = make_rig()
    rig.close()
    rig.link_load = lambda v: 0.9 * bms_params["max_discharge_c_rate"] * bms_params["capacity"]
    rig.run(15.0, dt_s=1e-2)
    assert rig.bms.events == []


def test_charging_above_the_charge_limit_opens(make_rig: Callable, bms_params: dict) -> None:
    allowed = bms_params["max_charge_c_rate"] * bms_params["capacity"]
    rig = make_rig()
    rig.close()
    rig.link_load = lambda v: -1.5 * allowed  # regeneration into the pack
    rig.run(10.5, dt_s=1e-2)
    assert rig.events("overcurrent", "set")
