"""Insulation-fault insertion: a relay-switched resistor box between HV+ / HV- and the chassis, and a
load across the DC link, its relays driven by a switch mainframe.

Command family: Keysight (Agilent) 34980A multifunction switch/measure unit, SCPI: ``ROUTe:CLOSe`` /
``ROUTe:OPEN`` with a channel list of four-digit ``sccc`` channels, their queries answering 1/0 per
channel, ``ROUTe:OPEN:ALL``, ``SYSTem:CTYPe? <slot>`` (module identity, model 0 for an empty slot),
``SYSTem:ERRor?`` [impl: microsoft/Qcodes/src/qcodes/instrument_drivers/Keysight/keysight_34980a.py
and keysight_34980a_submodules.py, a driver used on the instrument]. Every command it sends is
there; none is unverified. The box behind the relays is the bench's fixture; a model names the
mainframe and the fixture wired to it (``34980A/IFB-1``), whose drawing this driver carries.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass

from instruments.base import ScpiInstrument, action, reading, setter
from instruments.errors import OutOfRating

SIDES = ("hv_pos", "hv_neg")


@dataclass(frozen=True)
class Chain:
    """One resistor chain of the fixture: its connect relay, the relays that short its binary
    resistors (lowest first), the resistance that is never shorted and the lowest bit's value."""

    connect: int
    bits: tuple[int, ...]
    fixed_ohm: float
    step_ohm: float

    @property
    def max_ohm(self) -> float:
        return self.fixed_ohm + self.step_ohm * (2 ** len(self.bits) - 1)


@dataclass(frozen=True)
class Fixture:
    """Drawing of the resistor box: a chain per side and the link-load relay."""

    chains: dict[str, Chain]
    link_load: int
    module: str  # the relay module the fixture needs, in the slot of its channels


# IFB-1 [E]: 34937A in slot 1; each chain 20 kΩ + 1, 2, 4 ... 512 kΩ; 10 Ω link load on 1023
IFB_1 = Fixture(
    chains={
        "hv_pos": Chain(1001, tuple(range(1002, 1012)), 20e3, 1e3),
        "hv_neg": Chain(1012, tuple(range(1013, 1023)), 20e3, 1e3),
    },
    link_load=1023,
    module="34937A",
)


def _channel_list(channels: list[int]) -> str:
    return "(@" + ",".join(str(c) for c in channels) + ")"


class InsulationFaultBox(ScpiInstrument):
    """What a test may ask of an insulation-fault box."""

    kind = "isofault"

    @setter("fault_resistance_ohm", "resistance_ohm")
    @abstractmethod
    def insert(self, side: str, resistance_ohm: float) -> float:
        """Connect ``side`` ("hv_pos" or "hv_neg") to the chassis through the nearest resistance the
        box has; returns that resistance."""

    @action
    @abstractmethod
    def remove(self, side: str) -> None: ...
    @action
    @abstractmethod
    def set_link_load(self, on: bool) -> None:
        """The link-load resistor across the DC link at the inverter's input (a shorted link)."""

    @reading
    @abstractmethod
    def inserted(self) -> dict[str, float]:
        """What each side has to the chassis through the box (``inf`` when not connected), and
        ``link_load`` (1.0 when connected, else 0.0)."""

    @action
    @abstractmethod
    def open_all(self) -> None: ...


class Keysight34980A(InsulationFaultBox):
    """Keysight 34980A mainframe driving the relays of an insulation-fault box."""

    driver = "keysight.34980a"
    FIXTURES = {"34980A/IFB-1": IFB_1}
    MODELS = {
        "34980A/IFB-1": {
            "fault_resistance_ohm": (IFB_1.chains["hv_pos"].fixed_ohm, IFB_1.chains["hv_pos"].max_ohm)
        },
    }
    DEFAULT_MODEL = "34980A/IFB-1"

    @property
    def _fixture(self) -> Fixture:
        return self.FIXTURES[self.model]

    def _chain(self, side: str) -> Chain:
        if side not in SIDES:
            raise OutOfRating(self.name, self.resource_name, f"side {side!r} is not one of {SIDES}")
        return self._fixture.chains[side]

    def insert(self, side: str, resistance_ohm: float) -> float:
        chain = self._chain(side)
        self.check_rating("fault_resistance_ohm", resistance_ohm, "resistance_ohm")
        code = round((resistance_ohm - chain.fixed_ohm) / chain.step_ohm)
        kept = [relay for k, relay in enumerate(chain.bits) if code >> k & 1]
        shorted = [relay for k, relay in enumerate(chain.bits) if not code >> k & 1]
        # resistance is added before any is shorted, and the chain is set before it is connected:
        # no step on the way inserts less than the final value
        # ROUTe:OPEN/ROUTe:CLOSe with an (@sccc,...) list [impl: Qcodes keysight_34980a_submodules.py]
        if kept:
            self.write(f"ROUTe:OPEN {_channel_list(kept)}")
        if shorted:
            self.write(f"ROUTe:CLOSe {_channel_list(shorted)}")
        self.write(f"ROUTe:CLOSe {_channel_list([chain.connect])}")
        self.check_errors()
        return chain.fixed_ohm + chain.step_ohm * code

    def remove(self, side: str) -> None:
        chain = self._chain(side)
        self.write(f"ROUTe:OPEN {_channel_list([chain.connect])}")
        self.check_errors()

    def set_link_load(self, on: bool) -> None:
        self.write(f"ROUTe:{'CLOSe' if on else 'OPEN'} {_channel_list([self._fixture.link_load])}")
        self.check_errors()

    def inserted(self) -> dict[str, float]:
        fixture = self._fixture
        channels = [fixture.link_load]
        for chain in fixture.chains.values():
            channels += [chain.connect, *chain.bits]
        # one 1/0 per listed channel [impl: Qcodes keysight_34980a_submodules.py, are_closed]
        states = self.query_floats(f"ROUTe:CLOSe? {_channel_list(channels)}", len(channels))
        closed = {c for c, state in zip(channels, states, strict=True) if state == 1.0}
        result = {"link_load": 1.0 if fixture.link_load in closed else 0.0}
        for side, chain in fixture.chains.items():
            ohm = chain.fixed_ohm + sum(
                chain.step_ohm * 2**k for k, relay in enumerate(chain.bits) if relay not in closed
            )
            result[side] = ohm if chain.connect in closed else math.inf
        return result

    def open_all(self) -> None:
        self.write("ROUTe:OPEN:ALL")  # every slot [impl: Qcodes keysight_34980a.py, disconnect_all]
