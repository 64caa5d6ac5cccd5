"""What the transmission reports to diagnostics: its fault codes and its timed events.

SPNs: the standard J1939-71 SPN where the fault is about a standard parameter (526, actual gear
ratio); otherwise proprietary SPNs from the block 520704-520767, which we reserve for the
transmission [E] (J1939 leaves 520192-524287 to the manufacturer [R]). Both proprietary SPNs
are above 65535, so the split SPN encoding of a DTC is exercised.
"""

from __future__ import annotations

from sim.faults import Event, FaultCode

# Event kinds. Faults: name = the FAULTS key, kind "set" | "clear". Shifts: name "shift_<from>_<to>",
# kind "start" (the shift command: selected gear changes), "neutral" (old gear out), "synchronised"
# (engagement begins), "engaged" (new gear in), "end" (torque back, shift in process clears),
# "retarget" (after a synchronisation timeout). Kick-down: name "kickdown", kind "detect".
__all__ = ["FAULTS", "Event", "FaultCode"]

FAULTS: dict[str, FaultCode] = {
    "synchronisation_failed": FaultCode(
        spn=520704,
        fmi=7,  # mechanical system not responding [R]
        lamp="red",
        doc="the motor did not bring the input shaft within sync_tolerance of the new gear's speed "
        "within sync_timeout; the bus is in neutral (no drive) until a gear engages. Clears when "
        "a gear engages.",
    ),
    "shift_timeout": FaultCode(
        spn=520705,
        fmi=7,
        lamp="amber",
        doc="a shift still in process shift_timeout after its start. Clears when the shift ends.",
    ),
    "gear_ratio_implausible": FaultCode(
        spn=526,  # transmission actual gear ratio, J1939-71 [R]
        fmi=2,  # data erratic, intermittent or incorrect [R]
        lamp="amber",
        doc="with a gear engaged, input/output speed differs from the gear's ratio by more than "
        "ratio_check_tolerance for ratio_check_delay (a slipping gear or a wrong speed signal). "
        "Clears when the ratio is plausible again.",
    ),
}
