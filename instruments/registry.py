"""Drivers by name, as bench files name them (``driver: itech.it6000c``).

A driver enters only through ``register``, which holds it to its kind's declarations: the safety
envelope above wraps what the kind declares, so a driver that offers more, or implements a setter
without the parameter its quantity arrives in, would leave something unchecked.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

from instruments.analyzer import WT5000
from instruments.base import (
    Instrument,
    ScpiInstrument,
    Setting,
    declared_operations,
    declared_settings,
    kind_of,
)
from instruments.cellsim import Chroma87001
from instruments.dyno import DSP7000
from instruments.eload import Chroma63200, Chroma63600
from instruments.errors import DriverRegistrationError
from instruments.isofault import Keysight34980A
from instruments.supply import IT6000C
from instruments.tempsim import Prs202

DRIVERS: dict[str, type[Instrument]] = {}

Driver = TypeVar("Driver", bound=type[Instrument])

# the transport every driver shares; a test never reaches it, a driver may refine it
_TRANSPORT = frozenset(ScpiInstrument.__mro__)


def _public_members(klass: type) -> dict[str, object]:
    return {
        name: attr
        for name, attr in vars(klass).items()
        if not name.startswith("_")
        and (callable(attr) or isinstance(attr, property | classmethod | staticmethod | Setting))
    }


def check_driver(driver: type) -> None:
    """Raise ``DriverRegistrationError`` naming the driver, the method and what is missing unless
    the driver implements exactly the operations its kind declares."""
    if not (isinstance(driver, type) and issubclass(driver, Instrument)):
        raise DriverRegistrationError(driver, "not an Instrument subclass")
    try:
        kind = kind_of(driver)
    except TypeError as exc:
        raise DriverRegistrationError(driver, str(exc)) from None
    if kind is driver:
        raise DriverRegistrationError(driver, f"it is the kind {kind.kind!r} itself, not a driver of it")
    if not isinstance(vars(driver).get("driver"), str):
        raise DriverRegistrationError(driver, "no `driver` name of its own (as bench files name it)")
    operations = declared_operations(kind)
    settings = declared_settings(kind)
    for klass in kind.__mro__:
        if klass in _TRANSPORT:
            continue
        for name in _public_members(klass):
            if name not in operations:
                raise DriverRegistrationError(
                    driver,
                    f"{klass.__name__}.{name} is not declared: a kind's public method is a "
                    "@setter(quantity), @action, @energising, @reading or @protecting",
                )
    missing = sorted(getattr(driver, "__abstractmethods__", ()))
    if missing:
        raise DriverRegistrationError(driver, f"does not implement {', '.join(missing)} of {kind.__name__}")
    for name, operation in operations.items():
        if operation.role != "set":
            continue
        parameters = inspect.signature(getattr(driver, name)).parameters
        if operation.arg not in parameters:
            shown = ", ".join(p for p in parameters if p != "self")
            raise DriverRegistrationError(
                driver,
                f"{name}({shown}) has no parameter {operation.arg!r}, "
                f"which {kind.__name__}.{name} declares as carrying {operation.quantity}",
            )
        for model, ratings in driver.MODELS.items():
            if operation.quantity not in ratings:
                raise DriverRegistrationError(
                    driver, f"{name} sets {operation.quantity}, which model {model!r} has no rating for"
                )
    for name, quantity in settings.items():
        setting = getattr(driver, name, None)
        if not isinstance(setting, Setting) or setting.quantity != quantity:
            raise DriverRegistrationError(
                driver,
                f"{name} is not a Setting of quantity {quantity}, which {kind.__name__}.SETTINGS declares",
            )
    known = {name for klass in (*kind.__mro__, *_TRANSPORT) for name in vars(klass)}
    for klass in driver.__mro__:
        if klass in kind.__mro__:
            continue
        for name, attr in _public_members(klass).items():
            if isinstance(attr, Setting) and name not in settings:
                raise DriverRegistrationError(
                    driver, f"setting {name} is not declared in {kind.__name__}.SETTINGS (make it private)"
                )
            if name not in known and not isinstance(attr, Setting):
                raise DriverRegistrationError(
                    driver,
                    f"{klass.__name__}.{name} is a public method {kind.__name__} does not declare: "
                    "declare it on the kind or make it private",
                )


def register(driver: Driver) -> Driver:
    """Enter a driver under its ``driver`` name once ``check_driver`` has passed it."""
    check_driver(driver)
    name = driver.driver
    if DRIVERS.get(name, driver) is not driver:
        raise DriverRegistrationError(driver, f"the name {name!r} is taken by {DRIVERS[name].__qualname__}")
    DRIVERS[name] = driver
    return driver


for _builtin in (IT6000C, Chroma87001, Chroma63200, Chroma63600, DSP7000, WT5000, Prs202, Keysight34980A):
    register(_builtin)


def driver_class(name: str) -> type[Instrument]:
    try:
        return DRIVERS[name]
    except KeyError:
        raise KeyError(f"unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}") from None
