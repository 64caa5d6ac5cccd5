"""What every emulated instrument shares: identity, rating table, the plant-side model it fronts,
and (for SCPI instruments) the command engine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from sim.command_log import CommandLog
from sim.profile import Profile
from sim.scpi import ScpiEngine
from sim.simulation import Simulation


class Emulator(ABC):
    """One instrument's firmware: a line in, the reply bytes (without terminator) or None out."""

    driver: ClassVar[str]
    kind: ClassVar[str]
    manufacturer: ClassVar[str]
    firmware: ClassVar[str]
    terminator: ClassVar[bytes] = b"\n"
    #: model name -> the rating the emulated hardware itself enforces
    MODELS: ClassVar[dict[str, Any]]
    DEFAULT_MODEL: ClassVar[str]
    #: the plant argument its physics goes to (None: it only measures)
    plant_slot: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        name: str,
        model: str,
        serial: str,
        simulation: Simulation,
        log: CommandLog,
        physics: Any,
        profile: Profile,
        seed: int,
    ) -> None:
        self.name, self.model, self.serial = name, model, serial
        self.rating = self.rating_of(model)
        self.simulation, self.log, self.physics = simulation, log, physics
        self.profile, self.seed = profile, seed

    @classmethod
    def rating_of(cls, model: str) -> Any:
        if model not in cls.MODELS:
            raise ValueError(f"{cls.driver} emulator has no model {model!r}; known: {', '.join(cls.MODELS)}")
        return cls.MODELS[model]

    @classmethod
    def build_physics(cls, model: str, profile: Profile) -> Any:
        """The plant-side model this instrument fronts (None when it only measures)."""
        return None

    @property
    def identity(self) -> str:
        return f"{self.manufacturer},{self.model},{self.serial},{self.firmware}"

    @abstractmethod
    def handle(self, line: str) -> bytes | None: ...


class ScpiEmulator(Emulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # parsing and logging run outside the plant's lock; only the handlers hold simulated time still
        self.engine = ScpiEngine(self.identity, self.reset, self._log, guard=self.simulation.now)
        self.register(self.engine)

    def _log(self, command: str, header: str, args: list[str], error: int) -> None:
        self.log.record(self.name, command, header, args, error)

    def handle(self, line: str) -> bytes | None:
        return self.engine.execute(line)

    @abstractmethod
    def register(self, engine: ScpiEngine) -> None:
        """Add this instrument's commands to its engine."""

    @abstractmethod
    def reset(self) -> None:
        """*RST."""


def on_off(value: bool) -> str:
    return "1" if value else "0"
