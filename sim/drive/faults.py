"""The drive's fault codes and the events its protections emit.

SPNs: the J1939-71 ones where the quantity has one (190 engine speed, the drive answering as engine
#1; 639 J1939 network #1 for the lost torque command), proprietary SPNs 520192–520199 (J1939
reserves 520192–524287 for manufacturer use) for the inverter's own quantities, which also
exercises the SPN high bits of the DM1 encoding. FMIs per J1939-73: 0 above normal (most severe),
1 below normal (most severe), 6 current above normal, 9 abnormal update rate, 16 above normal
(moderately severe). Numbers [R] until checked against the purchased J1939 documents.
"""

from __future__ import annotations

from sim.faults import Event, FaultCode

# Event kinds: "warn" (warning threshold crossed), "cross" (trip threshold crossed, trip pending),
# "set" (fault active; for a latching fault the PWM-off instant), "clear" (fault inactive or reset),
# "off"/"on" (name ``pwm``: the gate drive went off/on).
__all__ = ["FAULTS", "Event", "FaultCode"]

FAULTS: dict[str, FaultCode] = {
    "dc_overvoltage_warning": FaultCode(
        520192, 16, "amber", "DC link above the SW warning level", latching=False
    ),
    "dc_overvoltage": FaultCode(520192, 0, "red", "SW over-voltage trip (INV-01)", latching=True),
    "dc_overvoltage_hardware": FaultCode(
        520193, 0, "red", "HW comparator over-voltage (INV-01)", latching=True
    ),
    "dc_undervoltage": FaultCode(520194, 1, "red", "DC link under-voltage trip (INV-02)", latching=True),
    "phase_overcurrent": FaultCode(520195, 6, "red", "SW phase over-current trip (INV-04)", latching=True),
    "heatsink_overtemperature": FaultCode(520196, 0, "red", "heatsink trip (INV-12)", latching=True),
    "winding_overtemperature": FaultCode(520197, 0, "red", "stator winding trip (INV-12)", latching=True),
    "overspeed": FaultCode(190, 0, "amber", "shaft above n_max + margin, torque 0 (INV-15)", latching=False),
    "command_timeout": FaultCode(
        639, 9, "amber", "torque command older than the timeout (INV-16)", latching=False
    ),
}
PWM_EVENT = "pwm"
