"""BMS-11 [E]: VCU heartbeat loss opens the contactors within 1 s; a welded contactor (its aux
contact stays closed) sets a DTC and inhibits closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.bms import Contactors, ContactorState
from sim.bms.can_frames import contactor_code


def test_heartbeat_loss_opens_within_1_s(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    assert rig.run_until(lambda r: r.hv.aux_contacts == Contactors(), 2.0) is None  # heartbeat fresh
    stopped = rig.t

    def heartbeat_lost(r: Any) -> bool:
        r.inputs.vcu_heartbeat_age_s = r.t - stopped  # the VCU's last frame was at ``stopped``
        return r.hv.aux_contacts == Contactors()

    opened = rig.run_until(heartbeat_lost, 2.0)
    assert opened is not None and opened - stopped <= 1.0
    assert rig.events("vcu_timeout", "set")


def test_no_heartbeat_needed_while_open(make_rig: Callable) -> None:
    rig = make_rig()
    rig.inputs.vcu_heartbeat_age_s = 60.0
    rig.run(1.0)
    assert rig.bms.events == []


def test_welded_main_contactor_sets_a_dtc_and_inhibits_closing(make_rig: Callable, bms_params: dict) -> None:
    rig = make_rig(main_welded=1.0)
    rig.close()
    rig.inputs.close_request = False
    released = rig.t
    rig.run(0.5)
    (detected,) = rig.events("contactor_welded", "set")
    assert detected - released <= bms_params["weld_detect_time"] + 0.002
    state = rig.bms.state
    assert state.contactor_state is ContactorState.LATCHED
    assert contactor_code(state, welded=True) == 3  # DBC ContactorState Welded
    rig.inputs.close_request = True
    rig.inputs.reset = True  # a reset does not clear a weld the aux contact still shows
    rig.run(1.0)
    assert rig.bms.state.contactor_command == Contactors()
    assert "contactor_welded" in rig.bms.active_faults


def test_good_contactors_raise_no_weld(make_rig: Callable) -> None:
    rig = make_rig()
    rig.close()
    rig.inputs.close_request = False
    rig.run(0.5)
    assert rig.bms.events == []


def test_worn_main_contactor_tack_welds_when_breaking_load(make_rig: Callable, bms_params: dict) -> None:
    rig = make_rig(main_weld_current=100.0, main_weld_hold=1.0)
    rig.close()
    rig.link_load = lambda link_v: 150.0  # the inverter draws 150 A as the contactors open
    rig.run(0.1)
    rig.inputs.close_request = False
    released = rig.t
    rig.run(0.5)
    assert rig.hv.main.closed and rig.events("contactor_welded", "set")
    rig.link_load = lambda link_v: 0.0
    parted = rig.run_until(lambda r: not r.hv.aux_contacts.main, 2.0)
    assert parted is not None and parted - released == pytest.approx(1.0, abs=0.02)
    rig.inputs.reset = True
    rig.run(0.01)
    assert "contactor_welded" not in rig.bms.active_faults  # the weld parted: a reset clears it


def test_worn_main_contactor_opens_cleanly_below_its_weld_current(make_rig: Callable) -> None:
    rig = make_rig(main_weld_current=100.0)
    rig.close()
    rig.link_load = lambda link_v: 50.0
    rig.run(0.1)
    rig.inputs.close_request = False
    rig.run(0.5)
    assert not rig.hv.aux_contacts.main and rig.bms.events == []


def test_a_firmware_without_the_weld_reaction_closes_again(make_rig: Callable) -> None:
    rig = make_rig(main_welded=1.0, weld_inhibits_close=0.0)
    rig.close()
    rig.inputs.close_request = False
    rig.run(0.5)
    assert "contactor_welded" in rig.bms.active_faults  # reported ...
    rig.inputs.close_request = True
    rig.inputs.reset = True
    rig.run(0.1)
    assert rig.bms.state.contactor_command.negative  # ... but not acted on: it closes against it
