"""TX-06: gear-signal consistency (reference §2.2).

The dyno holds the output shaft at three speeds with the drive at zero torque, one in each gear the
TCU chooses at zero throttle (1st at 15 km/h, 2nd at 40, 3rd at 60: inside each gear's speeds also
for a schedule 8 km/h late). In each, once the instruments see the gear (no shift in process), every
ETC2 frame's selected and current gear is compared with the gear whose ratio is nearest the motor
speed (EEC1, interpolated to the frame's arrival) over the output speed the dyno reads: the frame
must report the gear engaged as it is sent, within its own 100 ms period.
"""

from __future__ import annotations

import allure
import numpy as np

from hil.models import VehicleParameters
from hil.scenario import scenario
from hil.timing import dwell

pytestmark = [allure.epic("Transmission")]

MISMATCHED = "tx.gear_signal.mismatched_frames"

HOLDS_KMH = {1: 15.0, 2: 40.0, 3: 60.0}  # zero throttle: 1→2 at 30 km/h, 2→3 at 45 km/h (TX-01)
IN_GEAR_TIMEOUT_S = 8.0  # the schedule's dwell after the shift before (≥ 3 s, TX-01) and the shift
SAMPLE_S = 0.5  # five ETC2 frames in each gear
DYNO_READ_S = 0.05


@scenario(
    "TX-06",
    "Gear-signal consistency",
    feature="Gear signals",
    severity="critical",
    measures=[MISMATCHED],
    eol=True,
)
def test_tx06_gear_signal_consistency(drive, dyno, gearbox, can_monitor, measure):
    gearbox.ready(drive)
    mismatched = 0
    for gear, kmh in HOLDS_KMH.items():
        drive.transition("turning", output_rpm=VehicleParameters().shaft_speed_rpm(kmh / 3.6))
        gearbox.wait_in_gear(
            gear,
            timeout_s=IN_GEAR_TIMEOUT_S,
            what=f"the shafts turning in gear {gear} at {kmh:g} km/h, no shift in process (ETC1)",
        )
        mark = can_monitor.mark()
        output_rpm = []
        for _ in range(round(SAMPLE_S / DYNO_READ_S)):
            output_rpm.append(dyno.read().speed_rpm)
            dwell(DYNO_READ_S)
        motor = can_monitor.frames("EEC1", mark)
        motor_t, motor_rpm = [f.t_s for f in motor], [f["EngineSpeed"] for f in motor]
        for frame in can_monitor.frames("ETC2", mark):
            seen = gearbox.gear_of(
                float(np.interp(frame.t_s, motor_t, motor_rpm)), float(np.mean(output_rpm))
            )
            mismatched += frame["SelectedGear"] != seen or frame["CurrentGear"] != seen
    measure(MISMATCHED, mismatched)
