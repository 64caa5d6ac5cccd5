"""Bench configuration (``benches/*.yaml``): loaded and validated before any instrument is touched.

Every problem becomes one ``BenchConfigError`` line: ``benches/lab.yaml: instruments.supply.resource: ...``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hil.errors import BenchConfigError
from hil.protections import protection_quantities
from hil.yamlfile import YamlFileError, read_yaml
from instruments.base import Instrument, enveloped_quantities
from instruments.errors import DriverEntryPointError
from instruments.registry import driver_class

# VISA resource strings we can open with pyvisa-py by explicit name [S: pyvisa resource names]
_RESOURCE = re.compile(
    r"""^(?:
        TCPIP\d*::[A-Za-z0-9._\-]+::\d{1,5}::SOCKET
      | TCPIP\d*::[A-Za-z0-9._\-]+(?:::[A-Za-z0-9_,\-]+)?::INSTR
      | GPIB\d*::\d{1,2}(?:::\d{1,3})?::INSTR
      | ASRL[A-Za-z0-9/._\-]+::INSTR
      | USB\d*::0x[0-9A-Fa-f]{4}::0x[0-9A-Fa-f]{4}::[A-Za-z0-9._\-]+(?:::\d+)?::INSTR
    )$""",
    re.VERBOSE,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstrumentConfig(_Strict):
    driver: str
    resource: str
    serial: str = Field(min_length=1)
    calibration_due: dt.date
    model: str | None = None
    timeout_ms: int = Field(default=2000, gt=0, le=600_000, strict=True)
    open_timeout_ms: int = Field(default=2000, gt=0, le=60_000, strict=True)

    @field_validator("driver")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        try:
            driver_class(value)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        except DriverEntryPointError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("resource")
    @classmethod
    def _visa_resource(cls, value: str) -> str:
        if not _RESOURCE.match(value):
            raise ValueError(
                f"{value!r} is not a VISA resource string "
                "(e.g. TCPIP0::host::5025::SOCKET or TCPIP0::host::INSTR)"
            )
        port = re.match(r"^TCPIP\d*::[^:]+::(\d+)::SOCKET$", value)
        if port and int(port.group(1)) > 65535:
            raise ValueError(f"{value!r}: port {port.group(1)} is above 65535")
        return value

    @property
    def driver_class(self) -> type[Instrument]:
        return driver_class(self.driver)

    @property
    def model_name(self) -> str:
        return self.model or self.driver_class.DEFAULT_MODEL

    @property
    def auto_port(self) -> bool:
        """Port 0: the bench's service assigns the port when it starts."""
        return bool(re.match(r"^TCPIP\d*::[^:]+::0::SOCKET$", self.resource))


class Limit(_Strict):
    # strict: `true` is not the number 1; NaN compares false with everything and would pass every check
    low: float = Field(strict=True, allow_inf_nan=False)
    high: float = Field(strict=True, allow_inf_nan=False)

    def __str__(self) -> str:
        return f"limit [{self.low:g}, {self.high:g}]"

    def admits(self, value: float) -> bool:
        return math.isfinite(value) and self.low <= value <= self.high


class SimulatorConfig(_Strict):
    service: str = "simulated-bench"
    options: dict[str, Any] = Field(default_factory=dict)


class SafeStateConfig(_Strict):
    # every figure finite: an infinite step timeout waits for ever, a NaN compares false everywhere
    supply_ramp_v_per_s: float = Field(default=500.0, gt=0, allow_inf_nan=False)
    # class A boundary [S: GB 18384]
    discharged_below_v: float = Field(default=60.0, ge=0, allow_inf_nan=False)
    dyno_stopped_below_rpm: float = Field(default=30.0, ge=0, allow_inf_nan=False)
    # the shaft is braked along a ramp, not a step, so the dyno's speed loop stays inside its
    # torque alarm [E: ~250 N·m for the drivetrain's reflected inertia]
    dyno_ramp_rpm_per_s: float = Field(default=1500.0, gt=0, allow_inf_nan=False)
    step_timeout_s: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    # a thermistor emulator's channels go back to the NTC's resistance at 25 °C [E: R25 of a 10 kΩ NTC]
    thermistor_neutral_ohm: float = Field(default=10_000.0, gt=0, allow_inf_nan=False)
    # a guardian process holds the safe state while a run is open (hil/guardian.py); off only for a
    # bench whose instruments live and die inside the run's own process
    guardian: bool = True
    # the run beats every 0.2 s; this long without a beat, the guardian takes the run for hung
    heartbeat_timeout_s: float = Field(default=2.0, ge=0.5, le=600, allow_inf_nan=False)


def _check_safe_state(config: BenchConfig) -> None:
    """Each ramp of the safe state must end inside its step's timeout from the highest the envelope
    allows: one that cannot times out with the output still on."""
    cfg, path = config.safe_state, config.path
    for name, instrument in config.instruments.items():
        kind, limits = instrument.driver_class.kind, config.limits(name)
        if kind == "supply" and "voltage_v" in limits:
            top, bottom = limits["voltage_v"].high, cfg.discharged_below_v
            rate, unit, field = cfg.supply_ramp_v_per_s, "V", "safe_state.supply_ramp_v_per_s"
            rated = instrument.driver_class.ratings(instrument.model_name).get("slew_v_per_s")
            rate = min(rate, rated[1]) if rated else rate  # the safe state asks no more than the rating
            where = f"envelope.{name}.voltage_v"
        elif kind == "dyno" and "speed_rpm" in limits:
            top = max(abs(limits["speed_rpm"].low), abs(limits["speed_rpm"].high))
            bottom = cfg.dyno_stopped_below_rpm
            rate, unit, field = cfg.dyno_ramp_rpm_per_s, "rpm", "safe_state.dyno_ramp_rpm_per_s"
            where = f"envelope.{name}.speed_rpm"
        else:
            continue
        needed = max(top - bottom, 0.0) / rate
        if needed >= cfg.step_timeout_s:
            raise BenchConfigError(
                path,
                field,
                f"{rate:g} {unit}/s takes {needed:.3g} s from {top:g} {unit} ({where}) to {bottom:g} {unit}, "
                f"not within safe_state.step_timeout_s {cfg.step_timeout_s:g} s",
            )


class ResultsConfig(_Strict):
    # where this bench's runs are recorded: a SQLite file, or postgresql://user@host/db shared by benches
    db: str = Field(min_length=1)

    @field_validator("db")
    @classmethod
    def _store_url(cls, value: str) -> str:
        # imported here: SQLAlchemy takes about a second, and most bench files name no store
        from hil.results.store import StoreError, parse_url

        try:
            parse_url(value)
        except StoreError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
        return value


class BenchConfig(_Strict):
    name: str
    description: str = ""
    simulator: SimulatorConfig | None = None
    instruments: dict[str, InstrumentConfig]
    envelope: dict[str, dict[str, Limit]]
    can: dict[str, Any]
    safe_state: SafeStateConfig = Field(default_factory=SafeStateConfig)
    results: ResultsConfig | None = None
    path: str = ""

    def limits(self, instrument: str) -> dict[str, Limit]:
        return self.envelope.get(instrument, {})


def _limit(value: Any) -> Any:
    """``[low, high]`` in YAML is the short form of ``{low: .., high: ..}``."""
    if isinstance(value, list) and len(value) == 2:
        return {"low": value[0], "high": value[1]}
    return value


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("function-after", "function-before"))


def load_bench(path: str | Path) -> BenchConfig:
    """Read, validate and return a bench file; raise ``BenchConfigError`` naming file and field."""
    path = Path(path)
    shown = str(path)
    try:
        raw = read_yaml(path)
    except YamlFileError as exc:
        message = "no such bench file" if exc.message == "no such file" else exc.message
        raise BenchConfigError(shown, exc.where, message) from None
    if not isinstance(raw, dict):
        raise BenchConfigError(shown, "", "expected a mapping at the top level")
    odd = [key for key in raw if not isinstance(key, str)]
    if odd:
        raise BenchConfigError(shown, repr(odd[0]), "unknown field")
    envelope = raw.get("envelope")
    if isinstance(envelope, dict):
        raw["envelope"] = {
            name: ({q: _limit(v) for q, v in limits.items()} if isinstance(limits, dict) else limits)
            for name, limits in envelope.items()
        }
    raw["path"] = shown
    try:
        config = BenchConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "missing (required)"
        elif first["type"] == "extra_forbidden":
            message = "unknown field"
        raise BenchConfigError(shown, _field(first["loc"]), message) from None
    _check_semantics(config)
    return config


def _check_semantics(config: BenchConfig) -> None:
    path = config.path
    for name, instrument in config.instruments.items():
        driver = instrument.driver_class
        if instrument.model is not None and instrument.model not in driver.MODELS:
            raise BenchConfigError(
                path,
                f"instruments.{name}.model",
                f"{instrument.model!r} is not a {instrument.driver} model; known: {', '.join(driver.MODELS)}",
            )
        if instrument.auto_port and config.simulator is None:
            raise BenchConfigError(
                path, f"instruments.{name}.resource", "port 0 needs a `simulator:` service to assign the port"
            )
    for name, limits in config.envelope.items():
        if name not in config.instruments:
            raise BenchConfigError(path, f"envelope.{name}", "no instrument of that name in `instruments`")
        instrument = config.instruments[name]
        ratings = instrument.driver_class.ratings(instrument.model_name)
        for quantity, limit in limits.items():
            field = f"envelope.{name}.{quantity}"
            if quantity not in ratings:
                raise BenchConfigError(
                    path,
                    field,
                    f"{instrument.driver} has no quantity {quantity!r}; known: {', '.join(ratings)}",
                )
            if limit.low > limit.high:
                raise BenchConfigError(path, field, f"low {limit.low:g} is above high {limit.high:g}")
            rated_low, rated_high = ratings[quantity]
            if limit.low < rated_low or limit.high > rated_high:
                raise BenchConfigError(
                    path,
                    field,
                    f"[{limit.low:g}, {limit.high:g}] exceeds the {instrument.model_name} rating "
                    f"[{rated_low:g}, {rated_high:g}]",
                )
    for name, instrument in config.instruments.items():
        driver = instrument.driver_class
        needed = enveloped_quantities(driver) | set(protection_quantities(driver))
        missing = needed - set(config.limits(name))
        if missing:
            raise BenchConfigError(
                path,
                f"envelope.{name}.{sorted(missing)[0]}",
                "missing: every quantity the instrument can set or protects needs a limit",
            )
    for name, instrument in config.instruments.items():
        neutral = config.safe_state.thermistor_neutral_ohm
        limit = config.limits(name).get("resistance_ohm")
        if instrument.driver_class.kind == "tempsim" and limit is not None and not limit.admits(neutral):
            raise BenchConfigError(
                path,
                "safe_state.thermistor_neutral_ohm",
                f"{neutral:g} Ω is outside envelope.{name}.resistance_ohm [{limit.low:g}, {limit.high:g}]",
            )
    if "interface" not in config.can:
        raise BenchConfigError(path, "can.interface", "missing (required): the python-can interface name")
    _check_safe_state(config)
