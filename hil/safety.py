"""The safety envelope: every setter is checked before a byte is written.

``Guarded`` stands in front of a driver. A method the driver marks with ``sets(quantity, arg)`` or a
``Setting`` with a quantity is checked against the envelope; a refused call raises ``SafetyLimitError``
and sends nothing. A method marked ``energises`` first programs the instrument's own protections
from the envelope. Raw transport (``write``, chained queries, ``close``) is not offered.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hil.config import Limit
from hil.errors import SafetyLimitError
from hil.protections import program_protections
from instruments.base import Instrument, Setting

_BLOCKED = frozenset({"write", "query_block", "close", "reset"})


class Guarded:
    """A driver behind the bench's envelope."""

    def __init__(self, driver: Instrument, limits: Mapping[str, Limit]) -> None:
        object.__setattr__(self, "_driver", driver)
        object.__setattr__(self, "_limits", dict(limits))
        object.__setattr__(self, "_protected", False)
        object.__setattr__(self, "_lock", threading.RLock())

    # --- checks --------------------------------------------------------------------------------
    def _check(self, quantity: str, value: Any) -> None:
        driver: Instrument = self._driver
        limit = self._limits.get(quantity)
        if limit is None:
            raise SafetyLimitError(driver.name, quantity, value, "no limit in the bench envelope")
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        for item in values:
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                raise SafetyLimitError(driver.name, quantity, item, "not a number")
            number = float(item)
            if not math.isfinite(number):
                raise SafetyLimitError(driver.name, quantity, item, "not a finite number")
            if not limit.admits(number):
                raise SafetyLimitError(driver.name, quantity, item, str(limit))

    def _ensure_protected(self) -> None:
        if not self._protected:
            program_protections(self._driver, self._limits)
            object.__setattr__(self, "_protected", True)

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        mark = getattr(method, "sets_quantity", None)
        energises = getattr(method, "energises", False)
        signature = inspect.signature(method) if mark is not None else None

        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                if mark is not None:
                    quantity, arg = mark
                    bound = signature.bind(*args, **kwargs)  # type: ignore[union-attr]
                    self._check(quantity, bound.arguments[arg])
                if energises:
                    self._ensure_protected()
                return method(*args, **kwargs)

        return guarded

    # --- attribute access ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _BLOCKED:
            raise AttributeError(f"{self._driver.name}: {name!r} bypasses the safety envelope")
        if name == "query":
            return self._single_query
        # one caller at a time per instrument: a plant-model loop shares the bench with the scenario,
        # and a query's reply must reach the caller that asked (a Setting queries right here)
        with self._lock:
            attr = getattr(self._driver, name)
        return self._wrap(attr) if callable(attr) else attr

    def __setattr__(self, name: str, value: Any) -> None:
        setting = getattr(type(self._driver), name, None)
        if not isinstance(setting, Setting):
            raise AttributeError(
                f"{self._driver.name}: {name!r} is not a setting of {type(self._driver).__name__}"
            )
        with self._lock:
            if setting.quantity is not None:
                self._check(setting.quantity, value)
            setattr(self._driver, name, value)

    def _single_query(self, command: str) -> str:
        """Queries only: one command ending in '?', so nothing can be set through it."""
        text = command.strip()
        if ";" in text or (not text.endswith("?") and text.upper() not in ("OD1",)):
            raise SafetyLimitError(
                self._driver.name, "query", command, "only a single query command is allowed"
            )
        with self._lock:
            return self._driver.query(command)

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
