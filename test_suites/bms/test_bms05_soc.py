"""BMS-05 state of charge by coulomb counting, against the reference Ah integral of the current the
bench measures.

- BMS-05a (nightly): a constant discharge of the drive against the dyno for 20 s and a rest of 8 s:
  the charge the BMS counts (its SOC over UDS DID D010, 0.0001 %) against the supply's current
  integrated over the same interval. A current sensor's gain error shows here at once, and so does
  an OCV re-calibration on the plateau after a short rest.
- BMS-05b (long): the Braunschweig city-bus cycle (1740 s) with the pack, the bus's road load and the
  driver model in the loop; the SOC of BMS_Status against the pack model's Ah integral at its end.
  The China city-bus cycle of the reference (CCBC) is not in the package.

The bench's supply gives 54 kW and its dyno takes 1200 N·m: the cycle's torque requests are held to
45 kW of motor power and 900 N·m on the output shaft, the test as the VCU limiting the bus to the
bench it has.
"""

from __future__ import annotations

import math
import time

import allure
import pytest

from hil.dut.uds import DID_BMS_SOC
from hil.models import (
    CycleFollower,
    DriveCycle,
    DriverModel,
    PackEmulation,
    PackModel,
    RoadLoadEmulation,
    VehicleModel,
)
from hil.scenario import scenario
from hil.timing import dwell, wait_until
from test_suites.bms.helpers import DRIVE_OUTPUT_RPM, hold_dc_current

pytestmark = [allure.epic("BMS")]

DISCHARGE_A = 90.0  # 50 kW at the bench's 554 V, inside the supply's 54 kW
LOAD_TOLERANCE_A = 3.0
COUNT_S = 20.0  # 0.25 % of the pack: a 1 % gain error is 25 ppm of SOC, 25 × the DID's resolution
# then a rest, counted too: the bench's cells hold still, so a BMS that re-calibrates from the OCV
# on the plateau after a short rest (the reference: only after 1 h, never on the plateau [R])
# undoes the charge it counted
REST_S = 8.0
SAMPLE_S = 0.05
EXTENDED_SESSION = 0x03

PACK_SEED = 5
PACK_SOC = 0.6  # on the plateau, where no OCV correction may touch the count [R]
POWER_CAP_W = 45e3  # the bench supply's 54 kW, less a margin for the drive's losses [E]
MIN_CAP_RPM = 300.0  # below this the cap is the motor's own peak torque
OUTPUT_CAP_NM = 900.0  # on the output shaft: the dyno holds the bus's speed inside its 1200 N·m alarm
CYCLE_MARGIN_S = 30.0
CYCLE_TEST_TIMEOUT_S = 2400  # the 1740 s cycle, the bring-up and margin: above the suite's 300 s


def _soc_pct(uds) -> tuple[float, float]:
    """(the BMS's SOC in %, when it was read: the middle of the request's round trip)."""
    with uds(0x00) as client:
        sent = time.monotonic()
        soc = client.read_data_by_identifier_first(DID_BMS_SOC)
        return float(soc), (sent + time.monotonic()) / 2.0


@scenario(
    "BMS-05a",
    "SOC counting over a 20 s constant discharge and a rest",
    feature="State of charge",
    measures=["bms.soc.count_error_pct"],
)
def test_bms05a_soc_counting(drive, vcu, analyzer, supply, uds, product, measure):
    capacity_as = product.value("pack_capacity", "A*h") * 3600.0
    drive.transition("turning", output_rpm=DRIVE_OUTPUT_RPM)
    analyzer.configure("P3W4", 1000, 50)
    hold_dc_current(vcu, analyzer, DISCHARGE_A, tolerance_a=LOAD_TOLERANCE_A)
    times: list[float] = []
    currents: list[float] = []

    def sample() -> None:
        # stamped at the middle of the query's round trip: the current steps down in the window
        sent = time.monotonic()
        currents.append(supply.measure_current())
        times.append((sent + time.monotonic()) / 2.0)

    sample()
    soc_start, t_start = _soc_pct(uds)
    resting = False
    while time.monotonic() - t_start < COUNT_S + REST_S:
        if not resting and time.monotonic() - t_start >= COUNT_S:
            vcu.request_torque(0.0)
            resting = True
        dwell(SAMPLE_S)
        sample()
    soc_end, t_end = _soc_pct(uds)
    sample()
    charge_as = _integral(times, currents, t_start, t_end)
    counted_as = (soc_start - soc_end) / 100.0 * capacity_as
    measure("bms.soc.count_error_pct", 100.0 * (counted_as - charge_as) / charge_as)


def _integral(times: list[float], values: list[float], t0: float, t1: float) -> float:
    """The trapezoid integral of the sampled values from t0 to t1 (linear between samples)."""
    total, previous_t, previous_v = 0.0, t0, _interpolate(times, values, t0)
    for t, v in zip(times, values, strict=True):
        if t0 < t < t1:
            total += (t - previous_t) * (v + previous_v) / 2.0
            previous_t, previous_v = t, v
    return total + (t1 - previous_t) * (_interpolate(times, values, t1) + previous_v) / 2.0


def _interpolate(times: list[float], values: list[float], t: float) -> float:
    for i in range(1, len(times)):
        if times[i - 1] <= t <= times[i]:
            return values[i - 1] + (values[i] - values[i - 1]) * (t - times[i - 1]) / (
                times[i] - times[i - 1]
            )
    return values[0] if t < times[0] else values[-1]


@scenario(
    "BMS-05b",
    "SOC drift over the Braunschweig city-bus cycle",
    feature="State of charge",
    measures=["bms.soc.error_pct"],
    long=True,
)
@pytest.mark.timeout(CYCLE_TEST_TIMEOUT_S)
def test_bms05b_soc_over_a_drive_cycle(drive, plant_loop, supply, cellsim, dyno, vcu, can_monitor, measure):
    cycle = DriveCycle.braunschweig()
    pack = PackModel(seed=PACK_SEED, soc=PACK_SOC)
    bus = VehicleModel(speed_kmh=0.0)
    driver = DriverModel(bus.parameters)

    def send_torque(torque_nm: float) -> None:
        rpm = can_monitor.value("EEC1", "EngineSpeed")
        ratio = can_monitor.value("ETC2", "ActualGearRatio")
        cap = min(POWER_CAP_W / (max(rpm, MIN_CAP_RPM) * math.pi / 30.0), OUTPUT_CAP_NM / ratio)
        vcu.request_torque(min(max(torque_nm, -cap), cap))

    follower = CycleFollower(
        cycle,
        driver,
        bus,
        send_torque,
        gear_ratio=lambda: can_monitor.value("ETC2", "ActualGearRatio"),
    )
    channels = cellsim.channels
    drive.emulate_pack(
        lambda: pack.cell_voltages_v[:channels].tolist(), lambda: float(pack.terminal_voltage_v)
    )
    emulation = PackEmulation(pack, supply, cellsim)
    drive.transition("drive_ready")
    soc_start = can_monitor.value("BMS_Status", "StateOfCharge")
    reference_start = pack.reference_soc
    plant_loop(emulation, RoadLoadEmulation(bus, dyno), follower)
    wait_until(
        lambda: follower.finished,
        timeout_s=cycle.duration_s + CYCLE_MARGIN_S,
        what="the Braunschweig cycle driven",
        poll_s=1.0,
    )
    vcu.request_torque(0.0)
    dwell(1.0)  # a BMS_Status period and the last of the current
    soc_end = can_monitor.value("BMS_Status", "StateOfCharge")
    reference_change = 100.0 * (pack.reference_soc - reference_start)
    measure("bms.soc.error_pct", (soc_end - soc_start) - reference_change)
