"""BMS-11 VCU heartbeat loss while the drive draws from the pack: the contactors open within 1 s of
the timeout, and break the load without welding; a weld the BMS reports must inhibit closing."""

from __future__ import annotations

import allure

from hil.scenario import scenario
from hil.timing import dwell
from test_suites.bms.helpers import DRIVE_OUTPUT_RPM, WELDED, hold_dc_current, opened

pytestmark = [allure.epic("BMS")]

CLOSING_STATES = (2, 3, 4)  # BMS_Status.BmsState Precharge, Ready, Charging (dbc/README.md)
LOAD_A = 90.0  # the drive's DC current as the heartbeat stops: a break under load, inside the supply's 54 kW
LOAD_TOLERANCE_A = 5.0
WELD_SETTLE_S = 0.5  # the BMS checks the main contactor's aux contact 100 ms after opening it [E]
INRUSH_LIMIT_A = 20.0  # charges the 2 mF link in ≈ 60 ms, far below the supply's over-current trip
HEARTBEAT_BACK_S = 0.3  # three VCU_BmsCommand periods
INHIBIT_WATCH_S = 1.5  # after the reset: long enough for a pre-charge to start


@scenario(
    "BMS-11",
    "VCU heartbeat loss under load; no contactor weld",
    feature="Contactors",
    severity="critical",
    measures=[
        "bms.heartbeat_loss.open_delay_s",
        "bms.heartbeat_loss.weld_free",
        "bms.heartbeat_loss.close_inhibited",
    ],
    eol=True,
)
def test_bms11_heartbeat_loss_under_load(drive, vcu, analyzer, supply, can_monitor, measure):
    drive.transition("turning", output_rpm=DRIVE_OUTPUT_RPM)
    analyzer.configure("P3W4", 1000, 50)
    hold_dc_current(vcu, analyzer, LOAD_A, tolerance_a=LOAD_TOLERANCE_A)
    mark = can_monitor.mark()
    vcu.stop_heartbeat()
    frame = can_monitor.wait(
        "BMS_Status", opened, since=mark, timeout_s=5.0, what="contactors open after the heartbeat stopped"
    )
    vcu.request_torque(0.0)
    measure("bms.heartbeat_loss.open_delay_s", frame.t_s - vcu.last_heartbeat_s)
    dwell(WELD_SETTLE_S)
    welded = can_monitor.value("BMS_Status", "ContactorState") == WELDED
    measure("bms.heartbeat_loss.weld_free", 0.0 if welded else 1.0)
    if not welded:
        return
    # a welded contactor must not be closed against: a fault reset and a close request change nothing.
    # The link collapsed as the load broke; a BMS that does close would do it through the weld, without
    # pre-charge: the supply's current is limited first, so that inrush cannot trip it
    supply.set_current_limit(INRUSH_LIMIT_A)
    vcu.start_heartbeat()  # the close request of drive_ready stands
    dwell(HEARTBEAT_BACK_S)  # the heartbeat is back before the reset: the timeout's latch can clear
    mark = can_monitor.mark()
    vcu.fault_reset()
    dwell(INHIBIT_WATCH_S)
    # BmsState, not ContactorState: the latter shows the weld (3) whatever the sequence does
    closing = can_monitor.first("BMS_Status", lambda f: f["BmsState"] in CLOSING_STATES, since=mark)
    measure("bms.heartbeat_loss.close_inhibited", 1.0 if closing is None else 0.0)
