"""Every public attribute of every guarded instrument, of every registered driver, tried with values
inside and outside the envelope and with strings that carry a second command: nothing reaches the
wire unless a declared operation sent it with its quantity inside the envelope, a refused call sends
nothing, and the instrument's own protections are programmed before anything energises it.

The driver talks to a recording stand-in for its pyvisa resource, so what is checked is every
message the driver hands to its transport.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from hil.config import Limit
from hil.errors import SafetyLimitError
from hil.protections import program_protections, protection_quantities
from hil.safety import Guarded
from instruments.base import Instrument, declared_operations, declared_settings, enveloped_quantities, kind_of
from instruments.errors import InstrumentError, OutOfRating
from instruments.registry import DRIVERS

# replies that parse, so a read runs to its end; anything else gets "0"
REPLIES = {
    "SYST:ERR?": '0,"No error"',
    "*ESR?": "0",
    "*OPC?": "1",
    "OD1": "S0T0R",
    "SOURce:DATA?": "0000100000",
}

HOSTILE = [
    "VOLT 795\n*OPC?",
    "OUTP ON\n*OPC?",
    "N1,7900\r\n*IDN?",
    "1;OUTP ON",
    "hv_pos\n",
    "",
    math.nan,
    math.inf,
    -1e12,
    1e12,
    None,
    True,
    [1, "2\nOUTP ON"],
]

# a value each non-enveloped parameter of a declared operation takes in normal use
GOOD = {
    "channel": 1,
    "side": "hv_pos",
    "mode": "CCH",
    "on": True,
    "wiring": "P3W4",
    "voltage_range_v": 600.0,
    "current_range_a": 5.0,
    "items": [("URMS", 1), ("IRMS", 1)],
    "function": "UK",
    "element": 1,
    "max_order": 5,
    "traces": ["U1"],
    "sample_rate_hz": 1000.0,
    "samples": 10,
}

# what a test must not reach, whatever the kind; the walk adds every name dir() shows
ATTACK_NAMES = [
    "write",
    "query",
    "query_value",
    "query_floats",
    "query_block",
    "program_protection",
    "program_alarms",
    "clear_protection",
    "close",
    "reset",
    "check_errors",
    "identify",
]

REFUSALS = (SafetyLimitError, AttributeError, TypeError, ValueError)


class RecordingResource:
    """Stands in for a pyvisa resource: keeps every message the driver sends."""

    timeout = 2000

    def __init__(self) -> None:
        self.sent: list[str] = []

    def write(self, command: str) -> None:
        self.sent.append(command)

    def query(self, command: str) -> str:
        self.sent.append(command)
        return REPLIES.get(command, "0")

    def query_binary_values(self, command: str, **kwargs: Any) -> np.ndarray:
        self.sent.append(command)
        return np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        self.sent.append("<close>")


def _limits(driver_cls: type[Instrument]) -> dict[str, Limit]:
    """An envelope strictly inside the default model's rating, so a value outside the envelope is
    one the instrument would take: only the envelope stands between it and the wire."""
    ratings = driver_cls.ratings()
    limits = {}
    for quantity in enveloped_quantities(driver_cls) | set(protection_quantities(driver_cls)):
        low, high = ratings[quantity]
        span = high - low
        limits[quantity] = Limit(low=low + 0.2 * span, high=high - 0.2 * span)
    return limits


def _build(driver_cls: type[Instrument]) -> tuple[Guarded, RecordingResource, Instrument]:
    resource = RecordingResource()
    driver = driver_cls(resource, name=driver_cls.kind, resource_name="RECORDING::INSTR")
    return Guarded(driver, _limits(driver_cls)), resource, driver


def _protection_messages(driver_cls: type[Instrument]) -> list[str]:
    _, resource, driver = _build(driver_cls)
    try:
        program_protections(driver, _limits(driver_cls))
    except OutOfRating:
        # a driver whose instrument cannot hold this envelope refuses it, having sent nothing (the
        # Chroma 63200A has no programmable trip level); its energising calls are refused in turn
        assert resource.sent == [], f"{driver_cls.driver} refused its protections yet sent {resource.sent}"
    return resource.sent


def _public_names(guarded: Guarded, driver_cls: type[Instrument]) -> list[str]:
    names = {*dir(guarded), *dir(driver_cls), *ATTACK_NAMES}
    return sorted(n for n in names if not n.startswith("_"))


def _in_envelope(limit: Limit, channels: int) -> Iterator[Any]:
    mid = (limit.low + limit.high) / 2
    yield mid
    yield limit.high
    yield [mid] * channels


def _out_of_envelope(limit: Limit, channels: int) -> Iterator[Any]:
    span = limit.high - limit.low
    yield limit.high + 0.1 * span
    yield limit.low - 0.1 * span
    yield math.nextafter(limit.high, math.inf)
    yield [(limit.low + limit.high) / 2] * (channels - 1) + [limit.high + 0.1 * span]


def _calls(driver: Instrument, name: str, limits: dict[str, Limit]) -> Iterator[tuple[tuple, dict]]:
    """Keyword arguments for one call: all good, then each parameter in turn bad (hostile strings,
    non-numbers) and, for the enveloped one, outside the envelope."""
    operation = declared_operations(kind_of(type(driver))).get(name)
    parameters = [
        p
        for p in inspect.signature(getattr(driver, name)).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    channels = int(driver.MODELS[driver.model].get("channels", (1, 1))[1])
    good: dict[str, Any] = {}
    variants: dict[str, list[Any]] = {}
    for p in parameters:
        if operation is not None and p.name == operation.arg:
            limit = limits[operation.quantity]
            candidates = list(_in_envelope(limit, channels))
            good[p.name] = candidates[0]
            variants[p.name] = candidates[1:] + list(_out_of_envelope(limit, channels)) + HOSTILE
        elif p.name in GOOD:
            good[p.name] = GOOD[p.name]
            variants[p.name] = HOSTILE
        elif p.default is not p.empty:
            variants[p.name] = HOSTILE
        else:  # a command string, or a parameter a new declared operation brought
            good[p.name] = "MEAS:VOLT?"
            variants[p.name] = HOSTILE
    yield (), good
    for pname, values in variants.items():
        for value in values:
            yield (), {**good, pname: value}
    yield tuple(HOSTILE[:2]), {}  # positional, whatever the parameters are called


def _admitted(value: Any, limit: Limit) -> bool:
    values = value if isinstance(value, list | tuple) else [value]
    return all(
        not isinstance(v, bool) and isinstance(v, int | float) and limit.admits(float(v)) for v in values
    )


def _assert_wire_clean(sent: list[str], where: str) -> None:
    for message in sent:
        assert "\n" not in message and "\r" not in message, (
            f"{where}: a second command on the wire: {message!r}"
        )


@pytest.mark.parametrize(
    "driver_cls", sorted(DRIVERS.values(), key=lambda c: c.driver), ids=lambda c: c.driver
)
def test_nothing_reaches_the_wire_unchecked(driver_cls: type[Instrument]) -> None:
    kind = kind_of(driver_cls)
    declared = declared_operations(kind)
    offered = {n for n, op in declared.items() if op.role != "protect"}
    settings = declared_settings(kind)
    protections = _protection_messages(driver_cls)
    protection_writes = {m for m in protections if not m.endswith("?")}
    limits = _limits(driver_cls)
    probe, _, _ = _build(driver_cls)
    reached, refused_calls, admitted_sets = set(), 0, 0

    for name in _public_names(probe, driver_cls):
        guarded, resource, driver = _build(driver_cls)
        try:
            attr = getattr(guarded, name)
        except AttributeError as exc:
            assert resource.sent == [], f"{name}: refused yet sent {resource.sent}"
            assert name in str(exc) and "nothing sent" in str(exc)
            assert name not in offered and name not in settings, f"declared {name} is not offered"
            continue
        reached.add(name)
        _assert_wire_clean(resource.sent, name)
        if not callable(attr) or name in ("lock",):
            continue
        if name not in offered:
            assert name == "rearm", (
                f"{driver_cls.driver}: {name} is offered but not declared by {kind.__name__}"
            )
            guarded.rearm()
            assert resource.sent == []
            continue
        operation = declared[name]
        for args, kwargs in _calls(driver, name, limits):
            guarded, resource, driver = _build(driver_cls)
            call = f"{driver_cls.driver}.{name}(*{args!r}, **{kwargs!r})"
            try:
                getattr(guarded, name)(*args, **kwargs)
            except REFUSALS:
                assert resource.sent == [], f"{call} was refused yet sent {resource.sent}"
                refused_calls += 1
                continue
            except InstrumentError:
                pass  # the stand-in's replies are not every instrument's: what was sent still counts
            sent = resource.sent
            _assert_wire_clean(sent, call)
            if operation.quantity is not None and sent:
                bound = inspect.signature(getattr(driver, name)).bind(*args, **kwargs)
                value = bound.arguments[operation.arg]
                assert _admitted(value, limits[operation.quantity]), (
                    f"{call} sent {sent} outside the envelope"
                )
                admitted_sets += 1
            if operation.energises and sent:
                assert sent[: len(protections)] == protections, f"{call} sent {sent} before the protections"
            else:
                assert not protection_writes & set(sent), f"{call} programmed protections: {sent}"

    for name in _public_names(probe, driver_cls):
        quantity = settings.get(name)
        values: list[Any] = list(HOSTILE)
        if quantity is not None:
            values += [*_in_envelope(limits[quantity], 1), *_out_of_envelope(limits[quantity], 1)]
        for value in values:
            guarded, resource, _ = _build(driver_cls)
            try:
                setattr(guarded, name, value)
            except REFUSALS:
                assert resource.sent == [], f"{name} = {value!r} was refused yet sent {resource.sent}"
                continue
            assert name in settings, f"{name} = {value!r} was accepted but is not a declared setting"
            _assert_wire_clean(resource.sent, f"{name} = {value!r}")
            if quantity is not None:
                assert _admitted(value, limits[quantity]), f"{name} = {value!r} sent {resource.sent}"

    assert reached >= offered, f"declared but not offered: {offered - reached}"
    assert reached <= offered | set(settings) | {"name", "kind", "lock", "rearm"}
    assert refused_calls > 0
    assert admitted_sets > 0 or not any(op.quantity for op in declared.values())
