"""Keysight (Agilent) 34980A switch mainframe with a 34937A relay module in slot 1, driving the
insulation-fault box (``sim.plant.insulation``), as its SCPI firmware answers.

Channels are ``sccc`` (slot, three-digit channel) in a channel list ``(@1001,1002)``; ``ROUTe:CLOSe``,
``ROUTe:OPEN`` and their queries take a list, ``ROUTe:OPEN:ALL`` an optional slot, ``SYSTem:CTYPe?``
a slot and answers the module's identity, model 0 for an empty slot [S: QCoDeS Keysight 34980A
driver, used on the instrument]. A channel on an empty slot is hardware that is missing (SCPI -241);
a channel number the module does not have is out of range (-222) [E: error numbers per SCPI-99].
"""

from __future__ import annotations

import re
from typing import Any

from sim.emulators.base import ScpiEmulator
from sim.plant.insulation import FaultBox, SwitchRating
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError, format_numbers

SLOTS = 8
_CHANNEL_LIST = re.compile(r"^\(@\s*([0-9,:\s]+)\)$")


class Keysight34980AEmulator(ScpiEmulator):
    driver = "keysight.34980a"
    kind = "isofault"
    plant_slot = "fault_box"
    DEFAULT_MODEL = "34980A/IFB-1"
    manufacturer = "Agilent Technologies"
    firmware = "2.51-2.43-2.13-1.00"
    MODELS = {"34980A/IFB-1": SwitchRating(modules={1: "34937A"}, channels_per_module=32)}
    physics: FaultBox

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        return FaultBox()

    @property
    def identity(self) -> str:
        # the bench's model name carries the fixture wired to it; the mainframe answers as a 34980A
        return f"{self.manufacturer},{self.model.split('/')[0]},{self.serial},{self.firmware}"

    def reset(self) -> None:
        self.physics.reset()

    def _channels(self, call: Call, index: int) -> list[int]:
        match = _CHANNEL_LIST.match(call.text(index).strip())
        if match is None:
            raise ScpiError(-104, f"{call.args[index]!r} is not a channel list (@sccc,...)")
        channels: list[int] = []
        for part in match.group(1).split(","):
            low, _, high = part.strip().partition(":")
            try:
                first, last = int(low), int(high or low)
            except ValueError:
                raise ScpiError(-104, f"{call.args[index]!r} is not a channel list (@sccc,...)") from None
            channels.extend(range(first, last + 1) if last >= first else range(first, last - 1, -1))
        for channel in channels:
            slot, number = divmod(channel, 1000)
            if slot not in self.rating.modules:
                raise ScpiError(-241, f"no module in slot {slot} for channel {channel}")
            if not 1 <= number <= self.rating.channels_per_module:
                raise ScpiError(-222, f"channel {channel} is not on the {self.rating.modules[slot]}")
        return channels

    def register(self, engine: ScpiEngine) -> None:
        box, rating = self.physics, self.rating

        def close(call: Call) -> None:
            box.closed = box.closed | set(self._channels(call, 0))

        def open_(call: Call) -> None:
            box.closed = box.closed - set(self._channels(call, 0))

        def closed_states(call: Call) -> str:
            return format_numbers(float(c in box.closed) for c in self._channels(call, 0))

        def open_states(call: Call) -> str:
            return format_numbers(float(c not in box.closed) for c in self._channels(call, 0))

        def open_all(call: Call) -> None:
            if not call.has(0):
                box.closed = set()
                return
            slot = call.integer(0, (1, SLOTS))
            box.closed = {c for c in box.closed if c // 1000 != slot}

        def card_type(call: Call) -> str:
            slot = call.integer(0, (1, SLOTS))
            module = rating.modules.get(slot)
            if module is None:
                return f'"{self.manufacturer},0,0,0"'
            return f'"{self.manufacturer},{module},{self.serial}-{slot},{self.firmware}"'

        engine.add("ROUTe:CLOSe", close, closed_states)
        engine.add("ROUTe:OPEN", open_, open_states)
        engine.add("ROUTe:OPEN:ALL", open_all)
        engine.add("SYSTem:CTYPe?", getter=card_type)
