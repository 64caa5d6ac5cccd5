"""What a fault during a test is, in one line, and what the run does about it.

A test that fails because the bench misbehaved must say so, not show a wait that timed out three
layers up: the error names the instrument or the DUT and what happened, and lands in one Allure
category (``CATEGORIES``, written as ``categories.json`` into the results directory). A fault of a
safety-critical instrument ends the run once the bench is in its safe state: what it measured or
set can no longer be trusted, nor the state it left the bench in.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from hil.errors import DutCommunicationError, InstrumentFault, SafeStateError, SafetyAbort
from hil.timing import WaitTimeout
from instruments.errors import InstrumentError

SAFETY_CRITICAL_KINDS = ("supply", "dyno", "cellsim")
# the drive sends cyclic frames every 10-100 ms: none for this long means the bus or link is gone
CAN_SILENCE_S = 0.5

_FAILED = ["failed", "broken"]
# Allure matches each regex against the whole status message (the exception's class and text);
# `[\s\S]*` rather than `(?s).*`, so the same pattern holds in Python and in Allure 3's JavaScript
# (allurerc.yaml carries these rules for the HTML report; categories.json for other readers)
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Safety abort",
        "matchedStatuses": _FAILED,
        "messageRegex": r"[\s\S]*\b(SafetyAbort|SafeStateError)\b[\s\S]*",
    },
    {
        "name": "Instrument fault",
        "matchedStatuses": _FAILED,
        "messageRegex": r"[\s\S]*\b(InstrumentError|InstrumentTimeout|InstrumentConnectionError"
        r"|MalformedReply|InstrumentReportedError|InstrumentFault)\b[\s\S]*",
    },
    {
        "name": "DUT communication",
        "matchedStatuses": _FAILED,
        "messageRegex": r"[\s\S]*\bDutCommunicationError\b[\s\S]*",
    },
    {
        # the measure fixture's failure (fixtures/measure.py): a measured value outside its spec limits
        "name": "Limit violation",
        "matchedStatuses": ["failed"],
        "messageRegex": r"[\s\S]*\bmeasurement out of limits\b[\s\S]*",
    },
]


def write_categories(results: Path) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    path = results / "categories.json"
    path.write_text(json.dumps(CATEGORIES, indent=1), encoding="utf-8")
    return path


def latched_faults(bench: Any) -> list[InstrumentFault | InstrumentError]:
    """The faults the bench's instruments latched themselves: a supply's protection trip, a dyno's
    alarm (an instrument that does not answer the question is a fault too)."""
    found: list[InstrumentFault | InstrumentError] = []
    for name, guarded in list(bench.instruments.items()):
        kind = bench.config.instruments[name].driver_class.kind
        try:
            if kind == "supply":
                tripped = guarded.protection()
                if tripped.over_voltage or tripped.over_current:
                    which = "over-voltage" if tripped.over_voltage else "over-current"
                    found.append(InstrumentFault(name, f"{which} protection tripped, output latched off"))
            elif kind == "dyno" and guarded.read().alarm:
                found.append(InstrumentFault(name, "alarm latched (speed, torque or power limit)"))
        except InstrumentError as exc:
            found.append(exc)
    return found


def can_silent(monitor: Any, within_s: float = CAN_SILENCE_S) -> bool:
    """True when no frame at all arrives on the bench's CAN for ``within_s``."""
    start = monitor.mark()
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if monitor.mark() != start:
            return False
        time.sleep(0.01)
    return monitor.mark() == start


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def judge(exc: BaseException | None, bench: Any, monitor: Any = None) -> BaseException | None:
    """The error a test ends with, given what it raised (None: it passed) and the bench after it:
    ``SafetyAbort`` for a fault of a safety-critical instrument, the instrument's own error or
    ``InstrumentFault`` for another, ``DutCommunicationError`` when the DUT fell silent; None when
    the bench had no part in it (the test's own verdict stands)."""
    if isinstance(exc, SafetyAbort):
        return None
    chain = _chain(exc)
    cause: BaseException | None = next((e for e in chain if isinstance(e, InstrumentError)), None)
    if cause is None and bench is not None:
        latched = latched_faults(bench)
        cause = latched[0] if latched else None
    if cause is not None:
        name = cause.instrument  # type: ignore[union-attr]
        instrument = bench.config.instruments.get(name) if bench is not None else None
        if instrument is not None and instrument.driver_class.kind in SAFETY_CRITICAL_KINDS:
            return SafetyAbort(str(cause))
        return cause if cause is not exc else None
    if exc is None:
        return None
    down = getattr(monitor, "link_error", None)
    link = f"the CAN link is down: {down}" if down else None
    uds = next((e for e in chain if type(e).__name__ == "TimeoutException"), None)
    if uds is not None:
        ecu = getattr(uds, "ecu_address", None)
        who = "the ECU" if ecu is None else f"ECU 0x{ecu:02X}"
        return DutCommunicationError(
            f"{who} did not answer a UDS request ({uds})" + (f"; {link}" if link else "")
        )
    if monitor is not None and isinstance(exc, TimeoutError | WaitTimeout) and can_silent(monitor):
        return DutCommunicationError(
            f"no CAN frame for {CAN_SILENCE_S:g} s: {link or 'the bus is silent'} ({exc})"
        )
    return None


def aborts(exc: BaseException, bench: Any) -> bool:
    """A safe state that failed on a safety-critical instrument leaves the bench in doubt."""
    if not isinstance(exc, SafeStateError) or bench is None:
        return False
    for failure in exc.failures:
        instrument = bench.config.instruments.get(failure.split(":", 1)[0])
        if instrument is not None and instrument.driver_class.kind in SAFETY_CRITICAL_KINDS:
            return True
    return False
