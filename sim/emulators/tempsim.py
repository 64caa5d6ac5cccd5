"""IET Labs PRS-202 programmable decade resistance substituter on a BMS temperature sense line, as its
SCPI firmware answers (PRS-200/202 Series Operation Manual, ch. 7 and appendix A [S]).

The output is one command with a ten-character resistance string, one character per decade from
10^8 Ω down to 10^-1 Ω (§7.2): ``SOURce:DATA 0000010000`` is 10 kΩ. Characters for decades the unit
does not have are ignored; the character one decade above the most significant one selects open
circuit (1, 5, 9) or short circuit (2, 3, 6, 7) on units with that option, normal operation
otherwise (0, 4, 8). A string that is not ten digits is refused.
"""

from __future__ import annotations

import math
from typing import Any

from sim.emulators.base import ScpiEmulator
from sim.plant.thermistors import DecadeRating, DecadeResistor, ntc_resistance_ohm
from sim.profile import Profile
from sim.scpi import Call, ScpiEngine, ScpiError

STRING_DECADES = 10
TOP_EXPONENT = 8  # the first character is the 10^8 Ω decade
OPEN_CHARACTERS, SHORT_CHARACTERS = "159", "2367"


class Prs202Emulator(ScpiEmulator):
    driver = "iet.prs202"
    kind = "tempsim"
    plant_slot = "thermistor"
    # the model field of *IDN? encodes type-version-tolerance-decades-LSD-LSD slot-options (§7.3.1)
    DEFAULT_MODEL = "PRS-202-B-6-1-1-3"
    manufacturer = "IET Labs"
    firmware = "D6"
    MODELS = {
        "PRS-202-B-6-1-1-3": DecadeRating(decades=6, lsd_ohm=1.0, open_short=True),
        "PRS-202-B-7-100m-0-0": DecadeRating(decades=7, lsd_ohm=0.1, open_short=False),
    }
    physics: DecadeResistor

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        """Powered up holding the bench's neutral setting: the NTC's resistance at the temperature
        the bench's fixed NTC terminations stand for."""
        bms = profile["bms"]
        rating = cls.rating_of(model)
        neutral = ntc_resistance_ohm(profile["bench"]["cell_temperature"], bms["ntc_r25"], bms["ntc_beta"])
        return DecadeResistor(rating, round(neutral / rating.lsd_ohm) * rating.lsd_ohm)

    def reset(self) -> None:
        self.physics.reset()

    def _lsd_index(self) -> int:
        return TOP_EXPONENT - round(math.log10(self.rating.lsd_ohm))

    def register(self, engine: ScpiEngine) -> None:
        box, rating = self.physics, self.rating
        lsd_index = self._lsd_index()
        first = lsd_index - rating.decades + 1  # index of the most significant decade
        mode_index = first - 1

        def set_data(call: Call) -> None:
            text = call.text(0).strip()
            if len(text) != STRING_DECADES or not text.isdigit():
                raise ScpiError(-104, f"{text!r} is not a {STRING_DECADES}-digit resistance string")
            digits = text[first : lsd_index + 1]
            box.decade_ohm = int(digits) * rating.lsd_ohm
            mode = text[mode_index] if rating.open_short and mode_index >= 0 else "0"
            box.mode = "open" if mode in OPEN_CHARACTERS else "normal"
            if mode in SHORT_CHARACTERS:
                box.mode = "short"

        def get_data(_: Call) -> str:
            digits = ["0"] * STRING_DECADES
            value = f"{round(box.decade_ohm / rating.lsd_ohm):0{rating.decades}d}"
            digits[first : lsd_index + 1] = list(value)
            if rating.open_short and mode_index >= 0:
                digits[mode_index] = {"normal": "0", "open": "1", "short": "2"}[box.mode]
            return "".join(digits)

        engine.add("SOURce:DATA", set_data, get_data)
