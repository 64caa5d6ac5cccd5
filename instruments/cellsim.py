"""Multi-channel cell simulator: one channel per series cell on the BMS sense lines.

Command family: Chroma 87001-style SCPI with channel lists ``(@1:24)``. No source for the 87001's
commands was found: no programming manual, no independent driver, no logged session (searched for
the Chroma 87001 battery cell simulator's programming manual and SCPI command set). Every command
here, ``*IDN?`` and ``SYST:ERR?`` included, is modelled on SCPI-99 and is unverified (``UNVERIFIED``
lists them, ``hil bench check`` names them on a lab bench) until the manual has been read.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from instruments.base import ScpiInstrument, action, energising, protecting, reading, setter
from instruments.errors import OutOfRating


class CellSimulator(ScpiInstrument):
    """What a test may ask of a cell simulator."""

    kind = "cellsim"

    @property
    @reading
    def channels(self) -> int:
        return int(self.MODELS[self.model]["channels"][1])

    @setter("cell_voltage_v", "voltage_v")
    @abstractmethod
    def set_cell_voltage(self, channel: int, voltage_v: float) -> None: ...
    @setter("cell_voltage_v", "voltages_v", each=True)
    @abstractmethod
    def set_cell_voltages(self, voltages_v: Sequence[float]) -> None: ...
    @setter("current_a")
    @abstractmethod
    def set_current_limit(self, current_a: float) -> None: ...
    @protecting
    @abstractmethod
    def program_protection(self, ovp_v: float, ocp_a: float) -> None: ...
    @energising
    @abstractmethod
    def output_on(self) -> None: ...
    @action
    @abstractmethod
    def output_off(self) -> None: ...
    @reading
    @abstractmethod
    def outputs_enabled(self) -> list[bool]: ...
    @reading
    @abstractmethod
    def measure_voltages(self) -> list[float]: ...
    @reading
    @abstractmethod
    def measure_currents(self) -> list[float]: ...


class Chroma87001(CellSimulator):
    """Chroma 87001 battery-cell simulator frame."""

    driver = "chroma.87001"
    MODELS = {
        # per channel 0–5 V, ±5 A source/sink [R: Chroma 87001 datasheet]
        "87001-24": {"channels": (1, 24), "cell_voltage_v": (0.0, 5.0), "current_a": (0.0, 5.0)},
        "87001-12": {"channels": (1, 12), "cell_voltage_v": (0.0, 5.0), "current_a": (0.0, 5.0)},
    }
    DEFAULT_MODEL = "87001-24"
    UNVERIFIED = (
        "*IDN?",
        "SYST:ERR?",
        "SOUR:VOLT",
        "SOUR:CURR:LIM",
        "SOUR:VOLT:PROT",
        "SOUR:CURR:PROT",
        "OUTP",
        "OUTP?",
        "MEAS:VOLT?",
        "MEAS:CURR?",
    )

    def _all(self) -> str:
        return f"(@1:{self.channels})"

    def _check_channel(self, channel: int) -> None:
        if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= self.channels:
            raise OutOfRating(
                self.name, self.resource_name, f"channel {channel} is not in 1..{self.channels}"
            )

    def set_cell_voltage(self, channel: int, voltage_v: float) -> None:
        self._check_channel(channel)
        self.check_rating("cell_voltage_v", voltage_v, f"channel {channel} voltage_v")
        self.write(f"SOUR:VOLT {voltage_v:.4f},(@{channel})")  # unverified: no 87001 source found

    def set_cell_voltages(self, voltages_v: Sequence[float]) -> None:
        if len(voltages_v) != self.channels:
            raise OutOfRating(
                self.name, self.resource_name, f"{len(voltages_v)} voltages for {self.channels} channels"
            )
        for channel, voltage in enumerate(voltages_v, 1):
            self.check_rating("cell_voltage_v", voltage, f"channel {channel} voltage_v")
        # one message, so the cells change together as they would on a pack; the leading colon
        # returns each command to the root instead of continuing the previous one's path
        # unverified: no 87001 source found (nor whether it takes ;-chained commands)
        self.write(";".join(f":SOUR:VOLT {v:.4f},(@{ch})" for ch, v in enumerate(voltages_v, 1)))

    def set_current_limit(self, current_a: float) -> None:
        self.check_rating("current_a", current_a, "current_a")
        self.write(f"SOUR:CURR:LIM {current_a:.4f},{self._all()}")  # unverified: no 87001 source found

    def program_protection(self, ovp_v: float, ocp_a: float) -> None:
        self.check_rating("cell_voltage_v", ovp_v, "ovp_v")
        self.check_rating("current_a", ocp_a, "ocp_a")
        # unverified: no 87001 source found, for either protection or its units
        self.write(f"SOUR:VOLT:PROT {ovp_v:.4f},{self._all()}")
        self.write(f"SOUR:CURR:PROT {ocp_a:.4f},{self._all()}")
        self.check_errors()

    def output_on(self) -> None:
        self.write(f"OUTP ON,{self._all()}")  # unverified: no 87001 source found

    def output_off(self) -> None:
        self.write(f"OUTP OFF,{self._all()}")  # unverified: no 87001 source found

    def outputs_enabled(self) -> list[bool]:
        # unverified: no 87001 source found, nor the reply's form (one 0/1 per channel)
        return [state != 0.0 for state in self.query_floats(f"OUTP? {self._all()}", self.channels)]

    def measure_voltages(self) -> list[float]:
        return self.query_floats(f"MEAS:VOLT? {self._all()}", self.channels)  # unverified: no source found

    def measure_currents(self) -> list[float]:
        return self.query_floats(f"MEAS:CURR? {self._all()}", self.channels)  # unverified: no source found
