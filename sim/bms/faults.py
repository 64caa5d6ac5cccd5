"""The BMS's diagnostic trouble codes and the events it records.

SPNs: J1939 where the standard has one for the quantity (SPN 5920 HVESS current [S: reference
§5.2]); otherwise the proprietary block 520960–520966 [E] (inside 520192–524287, and above 65535
so the split SPN encoding of DM1 is exercised). FMIs per J1939-73 [R]: 0/1 above/below normal
most severe (trips), 16/18 above/below normal moderately severe (warnings), 7 mechanical system
not responding, 9 abnormal update rate.
"""

from __future__ import annotations

from sim.faults import Event, FaultCode

# Event kinds: "warn" (an amber entry sets), "set" (a red entry sets: contactors open), "clear",
# "retry" (a pre-charge attempt failed, another follows), "info" (a non-fault step of the
# firmware, e.g. the OCV correction of the SOC).
__all__ = ["FAULTS", "RED", "Event", "FaultCode"]

FAULTS: dict[str, FaultCode] = {
    "cell_overvoltage_warning": FaultCode(520960, 16, "amber", "highest cell above the warning level"),
    "cell_overvoltage": FaultCode(520960, 0, "red", "highest cell above the trip level: contactors open"),
    "cell_undervoltage_warning": FaultCode(520961, 18, "amber", "lowest cell below the warning level"),
    "cell_undervoltage": FaultCode(520961, 1, "red", "lowest cell below the trip level: contactors open"),
    "overtemperature_warning": FaultCode(520962, 16, "amber", "hottest cell above the warning level"),
    "overtemperature": FaultCode(520962, 0, "red", "hottest cell above the trip level: contactors open"),
    "charge_inhibited_cold": FaultCode(520962, 18, "amber", "coldest cell below the charge minimum"),
    "overcurrent": FaultCode(5920, 0, "red", "pack current above its limit too long: contactors open"),
    "insulation_warning": FaultCode(520963, 18, "amber", "insulation resistance below the warning level"),
    "insulation_fault": FaultCode(520963, 1, "red", "insulation resistance below the fault level"),
    "precharge_failed": FaultCode(520964, 7, "red", "pre-charge attempts exhausted: latched"),
    "contactor_welded": FaultCode(520965, 7, "red", "auxiliary contact closed while commanded open"),
    "vcu_timeout": FaultCode(520966, 9, "red", "VCU heartbeat lost: contactors open"),
}

RED = frozenset(name for name, code in FAULTS.items() if code.lamp == "red")
AMBER = frozenset(FAULTS) - RED
