"""Framework errors that carry where the problem is, so one line tells the engineer what to fix."""

from __future__ import annotations


class HilError(Exception):
    """Base of the framework's own errors."""


class BenchConfigError(HilError):
    """A bench file that cannot be used: names the file, the field and what is wrong."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message
        where = f"{path}: {field}" if field else path
        super().__init__(f"{where}: {message}")


class CanOpenError(HilError):
    """The bench's CAN interface could not be opened."""

    def __init__(self, path: str, kwargs: dict, detail: str) -> None:
        self.detail = detail
        super().__init__(f"{path}: can: cannot open {kwargs}: {detail}")


class SafetyLimitError(HilError):
    """A setter refused by the bench's safety envelope; nothing was sent to the instrument."""

    def __init__(self, instrument: str, quantity: str, value: object, limit: str) -> None:
        self.instrument, self.quantity, self.value, self.limit = instrument, quantity, value, limit
        super().__init__(
            f"{instrument}: {quantity}={value!r} refused by the safety envelope ({limit}); nothing sent"
        )


class SafeStateError(HilError):
    """One or more steps of the safe-state sequence failed (the remaining steps still ran)."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("safe state incomplete: " + "; ".join(failures))


class InstrumentFault(HilError):
    """An instrument latched a fault of its own (a protection trip, an alarm) during a test."""

    def __init__(self, instrument: str, what: str) -> None:
        self.instrument, self.what = instrument, what
        super().__init__(f"{instrument}: {what}")


class DutCommunicationError(HilError):
    """The DUT stopped talking: no CAN frames, no UDS answer, the CAN link gone."""

    def __init__(self, what: str) -> None:
        super().__init__(f"drive system: {what}")


class SafetyAbort(HilError):
    """A safety-critical instrument failed: the run stops once the bench is in its safe state."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(f"safety abort: {cause}; the run stops after the bench's safe state")
