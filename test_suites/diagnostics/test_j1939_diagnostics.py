"""J1939 diagnostics (reference §2.4 DIAG-01...03): a fault the bench causes shows in DM1 with its SPN,
FMI and lamp, on time; DM1 keeps its 1 s period; the DTC moves to DM2 once the fault is gone; DM11 and
DM3 clear what they must, acknowledged, and a fault still present sets its DTC again.

The faults are caused the way a bench causes them (conftest.py): TSC1 stopped for a moment (the
drive's command-timeout warning) and one cell-simulator channel below the BMS under-voltage trip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import allure
from diag_support import Diagnostics, Dm1, keys
from udsoncan.client import Client

from fixtures.measure import Measure
from hil.dut.dtc import DmMessage, LampStatus
from hil.dut.j1939 import J1939Client
from hil.product import ProductDtc
from hil.scenario import scenario

pytestmark = [allure.epic("Diagnostics")]

PERIODS = 4  # DM1 intervals judged in each state: several broadcasts, not one [E]
ALL_STATUS = 0xFF  # 0x19 02 status mask: every DTC the unit stores, whatever its status [R]


def _worst_interval(measure: Measure, name: str, intervals: Iterable[float]) -> float:
    """The interval farthest from the middle of the measurement's limits."""
    spec = measure.spec(name)
    middle = (spec.low + spec.high) / 2
    return max(intervals, key=lambda gap: abs(gap - middle))


def _lamp_as_specified(dm: DmMessage, lamp: str) -> bool:
    """A trip lights the red stop lamp; a warning the amber lamp and not the red one."""
    if lamp == "red":
        return dm.lamps.red_stop == LampStatus.ON
    return dm.lamps.amber_warning == LampStatus.ON and dm.lamps.red_stop == LampStatus.OFF


def _shows(event: Dm1 | None, dtc: ProductDtc) -> tuple[bool, bool, bool]:
    """Whether the DM1 that showed the new DTCs carries the fault's SPN, its SPN with the right FMI,
    and the fault's lamp."""
    if event is None:
        return False, False, False
    return (
        any(spn == dtc.spn for spn, _ in event.new),
        (dtc.spn, dtc.fmi) in event.new,
        _lamp_as_specified(event.message, dtc.lamp),
    )


@scenario(
    "DIAG-01",
    "DTC set via J1939 DM1",
    feature="J1939 diagnostics",
    severity="critical",
    measures=[
        "diag.dm1.period_s",
        "diag.dm1.appear_time_s",
        "diag.dm1.spn_matches",
        "diag.dm1.fmi_matches",
        "diag.dm1.lamp_matches",
        "diag.dm1.period_active_s",
    ],
)
def test_diag01_dtc_set_via_dm1(diagnostics: Diagnostics, measure: Measure) -> None:
    warning, trip = diagnostics.warning, diagnostics.trip_dtc
    diagnostics.clean_start()
    measure(
        "diag.dm1.period_s", _worst_interval(measure, "diag.dm1.period_s", diagnostics.intervals(PERIODS))
    )

    warned = diagnostics.passing_warning()
    tripped, appeared_s = diagnostics.trip()
    measure("diag.dm1.appear_time_s", appeared_s)
    shown = [_shows(warned, warning), _shows(tripped, trip)]
    measure("diag.dm1.spn_matches", float(all(spn for spn, _, _ in shown)))
    measure("diag.dm1.fmi_matches", float(all(fmi for _, fmi, _ in shown)))
    measure("diag.dm1.lamp_matches", float(all(lamp for _, _, lamp in shown)))
    if tripped is not None:
        intervals = diagnostics.intervals(PERIODS)
        measure("diag.dm1.period_active_s", _worst_interval(measure, "diag.dm1.period_active_s", intervals))


@scenario(
    "DIAG-02",
    "DM2 previously active DTCs",
    feature="J1939 diagnostics",
    severity="normal",
    measures=["diag.dm2.dtc_matches", "diag.dm2.occurrence_count"],
)
def test_diag02_dm2_previously_active(diagnostics: Diagnostics, j1939: J1939Client, measure: Measure) -> None:
    diagnostics.clean_start()
    tripped, _ = diagnostics.trip()
    if tripped is None:  # nothing in DM1 to move: the unit fails the premise
        measure("diag.dm2.dtc_matches", 0.0)
        measure("diag.dm2.occurrence_count", 0.0)
        return
    fault = tripped.of(diagnostics.trip_dtc.spn)
    diagnostics.end_trip(fault)
    dm2 = j1939.request_dm2(diagnostics.address)
    found = [dm2.find(spn, fmi) for spn, fmi in sorted(fault)]
    moved = all(dtc is not None for dtc in found) and not diagnostics.latest_keys() & fault
    measure("diag.dm2.dtc_matches", float(moved))
    measure("diag.dm2.occurrence_count", float(min(dtc.oc if dtc is not None else 0 for dtc in found)))


@scenario(
    "DIAG-03",
    "DM11 / DM3 clear",
    feature="J1939 diagnostics",
    severity="normal",
    measures=[
        "diag.dm11.ack_matches",
        "diag.dm11.cleared_matches",
        "diag.dm11.reset_matches",
        "diag.dm3.ack_matches",
        "diag.dm3.cleared_matches",
    ],
)
def test_diag03_dm11_dm3_clear(
    diagnostics: Diagnostics, j1939: J1939Client, uds: Callable[[int], Any], measure: Measure
) -> None:
    diagnostics.clean_start()
    diagnostics.passing_warning()  # a previously active DTC for DM3 to clear
    tripped, _ = diagnostics.trip()  # active DTCs whose fault stays while DM11 clears them
    address = diagnostics.address
    mark = diagnostics.mark()
    ack = j1939.clear_active_dtcs(address)
    measure("diag.dm11.ack_matches", float(ack is not None and ack.positive))
    active = tripped.of(diagnostics.trip_dtc.spn) if tripped is not None else frozenset()
    left = diagnostics.next_dm1(
        lambda dm: not keys(dm) & active, after=mark, what="DM1 without the cleared DTCs"
    )
    measure("diag.dm11.cleared_matches", float(bool(active) and left is not None))
    back = diagnostics.next_dm1(
        lambda dm: active <= keys(dm),
        after=mark if left is None else left.sequence,
        what="the DTCs of the fault still present set again",
    )
    measure("diag.dm11.reset_matches", float(bool(active) and back is not None))

    diagnostics.end_trip(active)
    with uds(address) as client:
        before = _previously_active(client)
        ack = j1939.clear_previously_active_dtcs(address)
        measure("diag.dm3.ack_matches", float(ack is not None and ack.positive))
        after = _previously_active(client)
    measure("diag.dm3.cleared_matches", float(before > 0 and after == 0))


def _previously_active(client: Client) -> int:
    """How many stored DTCs are not failing now, as 0x19 02 reports them."""
    dtcs = client.get_dtc_by_status_mask(ALL_STATUS).service_data.dtcs
    return sum(1 for dtc in dtcs if not dtc.status.test_failed)
