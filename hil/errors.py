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
