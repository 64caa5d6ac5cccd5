"""The HV path's electrics: pre-charge RC (BMS-07), the closed main contactor as an algebraic tie,
the link's passive discharge (INV-14), contactor delays and the defects that change them."""

from __future__ import annotations

import math

import pytest

from sim.bms import Contactors, HvPath

PACK_V = 537.6
PRECHARGING = Contactors(negative=True, precharge=True)
CLOSED = Contactors(negative=True, main=True)


def run(hv: HvPath, seconds: float, command: Contactors, load_a: float = 0.0, dt: float = 1e-3) -> None:
    for _ in range(round(seconds / dt)):
        hv.step(dt, PACK_V, load_a, command)


def test_precharge_follows_the_rc_curve_at_any_step(hv_params: dict[str, float]) -> None:
    # τ = 50 Ω × 2 mF = 100 ms [E, BMS-07]; the bleed resistor shifts it by 0.1 %
    g = 1 / hv_params["precharge_resistance"] + 1 / hv_params["link_bleed_resistance"]
    tau = hv_params["link_capacitance"] / g
    v_final = PACK_V / hv_params["precharge_resistance"] / g
    close_s = hv_params["contactor_close_time"]
    for dt in (1e-4, 1e-3, 0.02):
        hv = HvPath(hv_params)
        run(hv, close_s + 0.2, PRECHARGING, dt=dt)
        expected = v_final * (1 - math.exp(-0.2 / tau))
        assert hv.link_voltage_v == pytest.approx(expected, rel=1e-3), f"dt={dt}"


def test_closed_main_ties_the_link_to_the_source(hv_params: dict[str, float]) -> None:
    hv = HvPath(hv_params)
    run(hv, 1.0, PRECHARGING)
    run(hv, 0.1, Contactors(negative=True, precharge=True, main=True))
    run(hv, 0.1, CLOSED, load_a=300.0)
    r = hv_params["contactor_resistance"]
    source_a = 300.0 + hv.link_voltage_v / hv_params["link_bleed_resistance"]
    assert hv.source_current_a == pytest.approx(source_a, rel=1e-9)
    assert hv.link_voltage_v == pytest.approx(PACK_V - source_a * r, rel=1e-9)


def test_inrush_at_main_close_delivers_exactly_the_missing_charge(hv_params: dict[str, float]) -> None:
    hv = HvPath(hv_params)
    run(hv, 0.3, PRECHARGING)  # link ~ 95 % charged
    v_before, charge_c, dt = hv.link_voltage_v, 0.0, 1e-3
    for _ in range(100):
        hv.step(dt, PACK_V, 0.0, Contactors(negative=True, main=True))
        charge_c += hv.source_current_a * dt
    bleed_c = charge_c - hv_params["link_capacitance"] * (hv.link_voltage_v - v_before)
    # what is not on the capacitor went through the bleed resistor: ~ V/R for 0.1 s
    assert bleed_c == pytest.approx(PACK_V / hv_params["link_bleed_resistance"] * 0.1, rel=0.2)


def test_link_discharges_passively_within_5_minutes(hv_params: dict[str, float]) -> None:
    # INV-14 [R]: passive discharge to ≤ 60 V within 5 min, here from 600 V
    hv = HvPath(hv_params)
    for _ in range(2000):
        hv.step(1e-3, 600.0, 0.0, PRECHARGING)
    hv.link_voltage_v = 600.0
    for _ in range(300):
        hv.step(1.0, 600.0, 0.0, Contactors())
    assert hv.link_voltage_v < 60.0
    assert hv.source_current_a == 0.0


def test_contactors_move_after_their_delays(hv_params: dict[str, float]) -> None:
    hv = HvPath(hv_params)
    close_s, open_s = hv_params["contactor_close_time"], hv_params["contactor_open_time"]
    run(hv, close_s - 0.002, PRECHARGING)
    assert hv.aux_contacts == Contactors()
    run(hv, 0.003, PRECHARGING)
    assert hv.aux_contacts == PRECHARGING
    run(hv, open_s + 0.001, Contactors())
    assert hv.aux_contacts == Contactors()


def test_open_precharge_resistor_never_charges_the_link(hv_params: dict[str, float]) -> None:
    hv = HvPath(dict(hv_params, precharge_resistor_open=1.0))
    run(hv, 1.0, PRECHARGING)
    assert hv.aux_contacts == PRECHARGING  # the contactors close; the resistor is what is broken
    assert hv.link_voltage_v == 0.0


def test_welded_main_contactor_stays_closed(hv_params: dict[str, float]) -> None:
    hv = HvPath(dict(hv_params, main_welded=1.0))
    run(hv, 0.1, Contactors(negative=True, precharge=True, main=True))
    run(hv, 0.5, Contactors())
    assert hv.aux_contacts == Contactors(main=True)
