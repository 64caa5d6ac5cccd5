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


@pytest.mark.parametrize("delay_s", [0.0, 0.3])
def test_limits_follow_their_inputs_at_once_or_after_the_delay(make_rig: Callable, delay_s: float) -> None:
    rig = make_rig(limits_delay=delay_s)
    rig.run(0.1)
    full = rig.bms.state.discharge_current_limit_a
    rig.inputs.cell_temps_c = [25.0, 55.0, 25.0, 25.0]  # halfway into the 50-60 °C taper
    cut = rig.t
    lowered = rig.run_until(lambda r: r.bms.state.discharge_current_limit_a < 0.75 * full, 1.0)
    assert lowered is not None and lowered - cut == pytest.approx(delay_s, abs=0.002)
    assert rig.bms.state.discharge_current_limit_a == pytest.approx(0.5 * full)


def test_a_resistive_link_load_draws_through_the_path(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    for _ in range(10):
        rig.hv.step(1e-3, rig.source_v, 0.0, rig.bms.state.contactor_command, load_conductance_s=0.1)
    assert rig.hv.source_current_a == pytest.approx(0.1 * rig.source_v, rel=1e-3)


def test_an_offset_sensor_does_not_hold_a_trip_with_the_contactors_open(make_rig: Callable) -> None:
    """A red trip sets both limits to zero; with the contactors open no current flows, so the +15 A a
    sensor with an offset reads must not be judged an over-current that keeps the trip up after a
    reset (the defect unit bms_current_offset)."""
    rig = make_rig(current_offset=15.0)
    cells = rig.inputs.cell_voltages_v
    rig.inputs.cell_voltages_v = [2.70, *cells[1:]]  # below the under-voltage trip
    rig.run(1.5, dt_s=1e-2)
    assert rig.events("cell_undervoltage", "set")
    rig.inputs.cell_voltages_v = cells
    rig.run(12.0, dt_s=1e-2)  # longer than the over-current time
    rig.inputs.reset = True
    rig.run(0.1, dt_s=1e-2)
    assert rig.bms.active_faults == set() and not rig.bms.state.fault_active
    assert rig.events("overcurrent") == []
    rig.close()


def test_an_offset_sensor_trips_on_current_it_reads_through_closed_contactors(make_rig: Callable) -> None:
    """With the contactors closed the BMS cannot tell an offset from a load: 15 A read against a
    discharge limit cut to zero is an over-current after its 10 s."""
    rig = make_rig(current_offset=15.0, max_discharge_c_rate=0.0)
    rig.close()
    rig.run(10.5, dt_s=1e-2)
    assert rig.events("overcurrent", "set")
