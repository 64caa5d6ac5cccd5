"""The options a bench file's ``simulator:`` section (or ``hil-sim``) gives the simulated bench,
checked before anything starts: a wrong type is one line naming the option, not a traceback."""

from __future__ import annotations

import math
import os
from typing import Any


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _path(value: Any) -> bool:
    return isinstance(value, str | os.PathLike)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


KINDS: dict[str, tuple[Any, str]] = {
    "profile": (_path, "a profile file's path"),
    "set": (
        lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
        "a mapping of path to value",
    ),
    "log": (_path, "a command-log file's path"),
    "seed": (_integer, "an integer"),
    "serial": (_text, "the unit's serial number (text)"),
    "process": (lambda v: isinstance(v, bool), "true or false"),
    "start_timeout_s": (_positive, "a positive number of seconds"),
}


def check_options(options: Any) -> None:
    """``ValueError`` naming the first option of an unknown name or of the wrong type (None: unset)."""
    if not isinstance(options, dict):
        raise ValueError(f"simulator options: {options!r} is not a mapping")
    for name, value in options.items():
        if name not in KINDS:
            raise ValueError(f"options.{name}: unknown option; known: {', '.join(KINDS)}")
        accepts, wanted = KINDS[name]
        if value is not None and not accepts(value):
            raise ValueError(f"options.{name}: {value!r} is not {wanted}")
