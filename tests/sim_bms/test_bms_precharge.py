"""Contactor and pre-charge sequence against BMS-07/BMS-08 (foxBMS 2 defaults [S]; τ, 5 τ and the
100 ms pre-charge opening [E])."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from sim.bms import Contactors, ContactorState
from sim.bms.can_frames import contactor_code

TAU_S = 0.100  # 50 Ω × 2 mF, BMS-07 [E]


def main_close_time(rig: Any) -> float | None:
    """BMS-07 check: request closing; the time from the request until the main contactor's aux
    contact reports closed, None if it never does within the 5 s timeout."""
    rig.inputs.close_request = True
    return rig.run_until(lambda r: r.hv.aux_contacts.main, 5.0)


def test_link_reaches_63_percent_at_tau(make_rig: Callable) -> None:
    # BMS-07: τ = 100 ms ± 5 %, timed from the pre-charge contactor closing
    rig = make_rig()
    rig.inputs.close_request = True
    closed_at = rig.run_until(lambda r: r.hv.aux_contacts.precharge, 1.0)
    at_63 = rig.run_until(lambda r: r.hv.link_voltage_v >= (1 - math.exp(-1)) * r.source_v, 1.0)
    assert closed_at is not None and at_63 is not None
    assert at_63 - closed_at == pytest.approx(TAU_S, rel=0.05)


def test_foxbms_rule_closes_main_at_its_predicted_time(make_rig: Callable, hv_params: dict) -> None:
    # foxBMS 2 [S]: main closes once |V_pack − V_link| < 1 V and |I| < 50 mA. At 537.6 V that is
    # ≈ 7 τ after the pre-charge contactor closes: inside the 5 s timeout, beyond BMS-07's 5 τ
    # (which is why the golden unit closes on the 95 % rule instead)
    rig = make_rig(precharge_link_ratio=0.0)
    r_pre, r_bleed = hv_params["precharge_resistance"], hv_params["link_bleed_resistance"]
    tau = hv_params["link_capacitance"] / (1 / r_pre + 1 / r_bleed)
    v_final = rig.source_v * r_bleed / (r_pre + r_bleed)
    t_condition = tau * math.log(v_final / (v_final - (rig.source_v - 1.0)))
    predicted = 2 * hv_params["contactor_close_time"] + t_condition  # pre-charge, then main, contacts
    took = main_close_time(rig)
    assert took == pytest.approx(predicted, abs=0.003)
    state = rig.bms.state
    assert abs(state.pack_voltage_v - state.link_voltage_v) < 1.0
    assert rig.bms.events == []


def test_95_percent_rule_closes_main_within_5_tau(make_rig: Callable) -> None:
    # BMS-07 alternative rule: V_link ≥ 95 % V_pack (3 τ), main closed ≤ 5 τ = 0.5 s
    took = main_close_time(make_rig(precharge_link_ratio=0.95))
    assert took is not None and took <= 5 * TAU_S


def test_precharge_contactor_opens_within_100_ms_of_main(make_rig: Callable) -> None:
    # BMS-07 [E]: pre-charge contactor open ≤ 100 ms after the main contactor closes
    rig = make_rig()
    main_at = main_close_time(rig)
    open_at = rig.run_until(lambda r: not r.hv.aux_contacts.precharge, 1.0)
    assert main_at is not None and open_at is not None
    assert 0.0 < open_at - main_at <= 0.100
    assert rig.bms.state.contactor_state is ContactorState.CLOSED


def shorted_link(link_v: float) -> float:
    return link_v / 10.0  # BMS-08: DC link shorted through 10 Ω


@pytest.mark.parametrize(
    ("overrides", "load"),
    [({}, shorted_link), ({"precharge_resistor_open": 1.0}, lambda v: 0.0)],
    ids=["shorted-link", "precharge-resistor-open"],
)
def test_failed_precharge_retries_then_latches_until_reset(
    make_rig: Callable, overrides: dict, load: Callable, bms_params: dict
) -> None:
    # BMS-08 [S foxBMS logic]: abort at the 5 s timeout, contactors open, wait 3 s, ≤ 3 retries,
    # then latch with a DTC until a reset
    rig = make_rig(**overrides)
    rig.link_load = load
    rig.inputs.close_request = True
    timeout, wait = bms_params["precharge_timeout"], bms_params["precharge_retry_wait"]
    rig.run(timeout + wait / 2, dt_s=1e-3)
    assert contactor_code(rig.bms.state, welded=False) == 0  # between attempts the contactors are open
    rig.run(25.0 - timeout - wait / 2, dt_s=1e-3)
    retries = rig.events("precharge_failed", "retry")
    assert len(retries) <= 3
    assert retries == pytest.approx([timeout + k * (timeout + wait) for k in range(len(retries))], abs=0.002)
    latched = rig.events("precharge_failed", "set")
    assert latched == pytest.approx([(len(retries) + 1) * timeout + len(retries) * wait], abs=0.002)
    state = rig.bms.state
    assert state.contactor_state is ContactorState.LATCHED
    assert "precharge_failed" in rig.bms.active_faults
    assert contactor_code(state, welded=False) == 4  # DBC ContactorState PrechargeFailed
    assert rig.hv.aux_contacts == Contactors()
    rig.run(10.0, dt_s=1e-2)  # still requested: stays latched
    assert rig.bms.state.contactor_state is ContactorState.LATCHED
    rig.inputs.reset = True
    rig.run(0.1)
    assert rig.bms.state.contactor_state is ContactorState.PRECHARGE  # a fresh sequence
    assert "precharge_failed" not in rig.bms.active_faults


def test_defect_open_precharge_resistor_fails_the_close_check(make_rig: Callable) -> None:
    # the BMS-07 check above passes for the golden unit and must fail for this defect
    assert main_close_time(make_rig()) is not None
    assert main_close_time(make_rig(precharge_resistor_open=1.0)) is None


def test_dropping_the_close_request_opens_everything(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    rig.inputs.close_request = False
    rig.run(0.05)
    assert rig.bms.state.contactor_state is ContactorState.OPEN
    assert rig.hv.aux_contacts == Contactors()
    assert rig.bms.active_faults == frozenset()


def test_a_10_kohm_link_bleed_blocks_the_foxbms_rule(make_rig: Callable) -> None:
    # with 10 kΩ across the link the pre-charge settles 2.7 V short of the pack and draws 54 mA,
    # so foxBMS's 1 V / 50 mA rule is never met: the bleed resistor must be ≳ 30 kΩ
    assert main_close_time(make_rig(link_bleed_resistance=10e3, precharge_link_ratio=0.0)) is None
    assert main_close_time(make_rig(link_bleed_resistance=10e3, precharge_link_ratio=0.95)) is not None
