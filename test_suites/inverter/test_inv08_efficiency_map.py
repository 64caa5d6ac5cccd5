"""INV-08: the system efficiency (shaft power over DC input power) on a reduced map.

P_dc is the analyzer's element 4 at the inverter's DC input. P_mech is the motor's torque, from the
dyno's through the direct drive's efficiency with the no-load torque at the same speed taken off
(see driveline.py), times the motor's speed. The no-load torque also holds the motor's own friction
and windage, so the figure is the efficiency of the electrical energy conversion (motor and
inverter), the mechanical losses of the motor left out: about 1.5 points above the efficiency at
the shaft at 3500 rpm. The map stays inside what the bench's 54 kW supply carries (the drive's best
efficiency, near 100 kW, is out of its reach).
"""

from __future__ import annotations

import io
import math
import time

import allure

from hil.scenario import scenario
from hil.timing import dwell, wait_until

from .driveline import DIRECT_DRIVE

pytestmark = [allure.epic("Inverter")]

SPEEDS_RPM = (2900.0, 3200.0, 3500.0)
TORQUES_NM = (60.0, 90.0, 120.0)  # up to 44 kW at 3500 rpm
SETTLE_S = 0.4
AVERAGE_S = 0.3
PEAK = "inv.efficiency.peak_system_pct"


def point_mean(dyno, analyzer, seconds: float) -> tuple[float, float]:
    """The dyno's torque and the analyzer's DC input power (element 4), averaged over ``seconds``."""
    torques, powers = [], []
    start = time.monotonic()

    def read() -> float:
        torques.append(dyno.read().torque_nm)
        powers.append(analyzer.read_numeric([("P", 4)])[0])
        return time.monotonic() - start

    wait_until(
        read, lambda elapsed: elapsed >= seconds, timeout_s=seconds + 2.0, what="map point", poll_s=0.01
    )
    return sum(torques) / len(torques), sum(powers) / len(powers)


@scenario(
    "INV-08",
    "System efficiency map",
    feature="Efficiency",
    severity="normal",
    measures=[PEAK],
)
def test_inv08_efficiency_map(drive, driveline, vcu, dyno, analyzer, measure):
    driveline.engage_direct_drive(drive)
    mark = driveline.monitor.mark()
    rows = []

    def point(command_nm: float) -> tuple[float, float]:
        vcu.request_torque(command_nm)
        dwell(SETTLE_S)
        return point_mean(dyno, analyzer, AVERAGE_S)

    for speed_rpm in SPEEDS_RPM:
        drive.transition("turning", output_rpm=speed_rpm)
        no_load, _ = driveline.steady(lambda: point(0.0))
        for command_nm in TORQUES_NM:
            dyno_nm, p_dc_w = driveline.steady(lambda command_nm=command_nm: point(command_nm))
            torque_nm = driveline.motor_torque(dyno_nm, no_load, DIRECT_DRIVE)
            motor_rpm = speed_rpm * driveline.ratio(DIRECT_DRIVE)
            p_mech_w = torque_nm * motor_rpm * math.pi / 30.0
            rows.append((motor_rpm, command_nm, torque_nm, p_mech_w, p_dc_w, 100.0 * p_mech_w / p_dc_w))
        vcu.request_torque(0.0)
    assert not driveline.shifted_since(mark), "the direct drive held through every reading"
    _attach_map(rows)
    measure(PEAK, max(row[-1] for row in rows))


def _attach_map(rows: list[tuple[float, ...]]) -> None:
    header = "motor_rpm,command_nm,torque_nm,p_mech_w,p_dc_w,efficiency_pct"
    table = "\n".join([header, *(",".join(f"{v:.6g}" for v in row) for row in rows)])
    allure.attach(table, name="efficiency map", attachment_type=allure.attachment_type.CSV)
    allure.attach(_figure(rows), name="efficiency map", attachment_type=allure.attachment_type.PNG)


def _figure(rows: list[tuple[float, ...]]) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for speed in sorted({row[0] for row in rows}):
        points = [row for row in rows if row[0] == speed]
        ax.plot([p[2] for p in points], [p[5] for p in points], "o-", label=f"{speed:.0f} rpm")
    ax.set_xlabel("motor torque [N·m]")
    ax.set_ylabel("system efficiency [%]")
    ax.grid(True, alpha=0.3)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
