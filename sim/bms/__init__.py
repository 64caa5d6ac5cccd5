"""The BMS of the LiFePO4 pack and the HV path it switches: a pure model stepped in simulated time.

``BmsFirmware`` measures the cell-simulator channels, runs the protections, SOC, limits, balancing
and the contactor/pre-charge sequence; ``HvPath`` is the electrical path from the pack (the bench's
DC supply) through the contactors and pre-charge resistor to the inverter's DC link. Parameters:
``sim/profiles/golden.yaml`` (sections ``bms`` and ``hv_path``).
"""

from pathlib import Path

from sim.bms.contactors import Contactors, ContactorState
from sim.bms.faults import FAULTS, Event, FaultCode
from sim.bms.firmware import BmsFirmware, BmsInputs, BmsState
from sim.bms.hv_path import HvPath
from sim.bms.ocv import OcvTable

GOLDEN_PARAMETERS = Path(__file__).resolve().parent.parent / "profiles" / "golden.yaml"

__all__ = [
    "FAULTS",
    "GOLDEN_PARAMETERS",
    "BmsFirmware",
    "BmsInputs",
    "BmsState",
    "ContactorState",
    "Contactors",
    "Event",
    "FaultCode",
    "HvPath",
    "OcvTable",
]
