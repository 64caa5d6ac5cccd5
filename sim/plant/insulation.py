"""The insulation-fault box's own physics: resistor chains from HV+ and from HV- to the chassis and a
load across the DC link, each switched in by relays of a switch unit.

The box as built (drawing IFB-1 [E], a relay module in slot 1 of the switch mainframe; the relays
drive the coils of the box's 1 kV reed relays):

    HV+ --K1001-- 20 kΩ --[1 kΩ]--[2 kΩ]-- ... --[512 kΩ]-- chassis   K1002..K1011 short each resistor
    HV- --K1012-- 20 kΩ --[1 kΩ]--[2 kΩ]-- ... --[512 kΩ]-- chassis   K1013..K1022 short each resistor
    link+ --K1023-- 10 Ω (1 kW) -- link-                            at the inverter's DC input

With every relay open (power-on, the safe state) nothing is inserted and each chain is at its
highest value, so closing a connect relay never inserts less than was asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FIXED_OHM = 20e3  # the chain's floor: 540 V across it is 27 mA, 15 W [E]
STEP_OHM = 1e3
BITS = 10
LINK_LOAD_OHM = 10.0  # reference BMS-08: "DC link shorted (10 Ω)" [E]


@dataclass(frozen=True)
class Chain:
    connect: int
    first_bit: int  # channel of the 1 kΩ bit; the 512 kΩ one is first_bit + 9


HV_POS = Chain(connect=1001, first_bit=1002)
HV_NEG = Chain(connect=1012, first_bit=1013)
LINK_LOAD = 1023


@dataclass(frozen=True)
class SwitchRating:
    """The mainframe's slots: slot number -> module model (absent = empty)."""

    modules: dict[int, str]
    channels_per_module: int


class FaultBox:
    """Relay states, as channel numbers ``sccc`` that are closed, and what they insert."""

    def __init__(self) -> None:
        self.closed: set[int] = set()

    def reset(self) -> None:
        self.closed = set()

    def _chain_ohm(self, chain: Chain) -> float:
        if chain.connect not in self.closed:
            return math.inf
        shorted = {chain.first_bit + k for k in range(BITS)} & self.closed
        return FIXED_OHM + sum(STEP_OHM * 2**k for k in range(BITS) if chain.first_bit + k not in shorted)

    @property
    def hv_pos_ohm(self) -> float:
        """HV+ to chassis through the box (infinite when its connect relay is open)."""
        return self._chain_ohm(HV_POS)

    @property
    def hv_neg_ohm(self) -> float:
        return self._chain_ohm(HV_NEG)

    @property
    def link_load_s(self) -> float:
        """Conductance the box puts across the DC link."""
        return 1.0 / LINK_LOAD_OHM if LINK_LOAD in self.closed else 0.0
