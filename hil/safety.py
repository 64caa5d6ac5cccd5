"""The safety envelope: an allow-list in front of every instrument a test is handed.

``Guarded`` offers a test the operations the driver's instrument kind declares
(``instruments.base.Operation``: setters, actions, energising calls, reads) and nothing else. A
setter's value is checked against the bench envelope by the kind's declaration (quantity and the
parameter carrying it), whatever the driver's own method looks like; a refused call raises
``SafetyLimitError`` and sends nothing. An energising call first programs the instrument's own
protections from the envelope, and only ``Guarded`` programs them: the kind's protection calls, the
transport (``write``, ``query`` with a command string), ``close`` and ``reset`` are not offered.
The bench keeps the raw drivers for the framework's own work (the safe state, the bench check).
"""

from __future__ import annotations

import inspect
import math
import numbers
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hil.config import Limit
from hil.errors import SafetyLimitError
from hil.protections import program_protections
from instruments.base import Instrument, Operation, declared_operations, declared_settings, kind_of
from instruments.registry import check_driver

_TRANSPORT = frozenset({"write", "query", "query_value", "query_floats", "query_block"})


class Guarded:
    """A driver behind the bench's envelope: its kind's declared operations, checked."""

    def __init__(self, driver: Instrument, limits: Mapping[str, Limit]) -> None:
        check_driver(type(driver))  # a driver that never went through registration is held to it here
        kind = kind_of(type(driver))
        declared = declared_operations(kind)
        object.__setattr__(self, "_driver", driver)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_operations", {n: op for n, op in declared.items() if op.role != "protect"})
        object.__setattr__(
            self, "_protections", sorted(n for n, op in declared.items() if op.role == "protect")
        )
        object.__setattr__(self, "_settings", declared_settings(kind))
        object.__setattr__(self, "_limits", dict(limits))
        object.__setattr__(self, "_protected", False)
        object.__setattr__(self, "_lock", threading.RLock())
        object.__setattr__(self, "_wrapped", {})

    @property
    def name(self) -> str:
        """The instrument's name in the bench file."""
        return self._driver.name

    @property
    def kind(self) -> str:
        return self._kind.kind

    # --- checks --------------------------------------------------------------------------------
    def _check(self, quantity: str, value: Any, *, each: bool = False) -> None:
        name = self._driver.name
        limit = self._limits.get(quantity)
        if limit is None:
            raise SafetyLimitError(name, quantity, value, "no limit in the bench envelope")
        if each and (not isinstance(value, Sequence) or isinstance(value, str | bytes)):
            raise SafetyLimitError(name, quantity, value, "not a sequence of numbers")
        for item in value if each else [value]:
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                raise SafetyLimitError(name, quantity, item, "not a number")
            number = float(item)
            if not math.isfinite(number):
                raise SafetyLimitError(name, quantity, item, "not a finite number")
            if not limit.admits(number):
                raise SafetyLimitError(name, quantity, item, str(limit))

    def _ensure_protected(self) -> None:
        if not self._protected:
            program_protections(self._driver, self._limits)
            object.__setattr__(self, "_protected", True)

    def _wrap(self, name: str, operation: Operation) -> Callable[..., Any]:
        method = getattr(self._driver, name)
        signature = inspect.signature(method)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            # one caller at a time per instrument: a plant-model loop shares the bench with the
            # scenario, and a reply must reach the caller that asked
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{self._driver.name}.{name}: {exc}; nothing sent") from None
            with self._lock:
                if operation.quantity is not None:
                    bound.apply_defaults()
                    self._check(operation.quantity, bound.arguments[operation.arg], each=operation.each)
                if operation.energises:
                    self._ensure_protected()
                return method(*args, **kwargs)

        guarded.__name__ = guarded.__qualname__ = name
        guarded.__doc__ = method.__doc__
        return guarded

    def _refusal(self, name: str) -> str:
        where = f"{self._driver.name} ({self._kind.__name__})"
        if name in self._protections:
            why = "its own protections are programmed from the bench envelope by the framework only"
        elif name in _TRANSPORT:
            reads = ", ".join(sorted(n for n, op in self._operations.items() if op.role == "read"))
            why = f"no command strings reach an instrument from a test; read through {reads}"
        else:
            why = f"not an operation of the kind; a test may use {', '.join(sorted(self._operations))}"
        return f"{where}: {name!r} refused, nothing sent: {why}"

    # --- attribute access ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        operations = self.__dict__.get("_operations")
        if operations is None:  # not built yet (a copy, an unpickling): nothing to offer
            raise AttributeError(name)
        operation = operations.get(name)
        if operation is None:
            if name in self._settings:
                with self._lock:
                    return getattr(self._driver, name)
            raise AttributeError(self._refusal(name))
        if isinstance(getattr(type(self._driver), name, None), property):
            with self._lock:
                return getattr(self._driver, name)
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            wrapped = self._wrapped[name] = self._wrap(name, operation)
        return wrapped

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._settings:
            settable = ", ".join(sorted(self._settings)) or "none"
            raise AttributeError(
                f"{self._driver.name}: {name!r} is not a setting a test may set on a "
                f"{self._kind.__name__} (settable: {settable}); nothing sent"
            )
        with self._lock:
            quantity = self._settings[name]
            if quantity is not None:
                self._check(quantity, value)
            setattr(self._driver, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._driver.name}: {name!r} cannot be deleted from a guarded instrument")

    def __dir__(self) -> list[str]:
        return sorted({*object.__dir__(self), *self._operations, *self._settings})

    # --- the framework's controls: neither sends anything ------------------------------------------
    def rearm(self) -> None:
        """Program the protections again before the next energising call: a latch an earlier test
        left (the dyno's alarm, which only programming re-arms) is acknowledged there, once the
        bench's safe state has run, instead of stopping every test after it."""
        with self._lock:
            object.__setattr__(self, "_protected", False)

    @property
    def lock(self) -> threading.RLock:
        """Held while a call is on the wire; the bench's safe state takes it too."""
        return self._lock

    def __repr__(self) -> str:
        return f"<Guarded {self._driver!r}>"
