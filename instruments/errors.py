"""Errors a driver raises. Each names the instrument, its resource and the command involved."""

from __future__ import annotations


class InstrumentError(Exception):
    """Something went wrong talking to an instrument."""

    def __init__(self, instrument: str, resource: str, detail: str) -> None:
        self.instrument = instrument
        self.resource = resource
        self.detail = detail
        super().__init__(f"{instrument} ({resource}): {detail}")


class InstrumentTimeout(InstrumentError):
    """No reply (or no acceptance of a write) within the instrument's timeout."""


class InstrumentConnectionError(InstrumentError):
    """The resource could not be opened: host unknown, port closed, wrong resource string."""


class MalformedReply(InstrumentError):
    """A reply that does not parse as the command's documented answer."""


class InstrumentReportedError(InstrumentError):
    """The instrument reported errors after a command: its SCPI error queue held entries, or (``where``)
    the status register it reports through had error or alarm bits set."""

    def __init__(
        self,
        instrument: str,
        resource: str,
        command: str,
        entries: list[tuple[int, str]],
        where: str = "error queue",
    ) -> None:
        self.command = command
        self.entries = entries
        listed = "; ".join(f'{code},"{text}"' for code, text in entries)
        super().__init__(instrument, resource, f"{where} after {command!r}: {listed}")


class OutOfRating(InstrumentError, ValueError):
    """A value outside what the instrument model itself can do; refused before anything is sent."""


class DriverRegistrationError(TypeError):
    """A driver class that does not keep to its instrument kind's declared operations; refused when
    it is registered, before any bench can name it."""

    def __init__(self, driver: type, detail: str) -> None:
        self.driver, self.detail = driver, detail
        super().__init__(f"driver {driver.__module__}.{driver.__qualname__} refused: {detail}")


class DriverEntryPointError(Exception):
    """An installed package's entry point that gives no driver ``register`` accepts: it does not
    import, names another driver, or the driver is refused."""

    def __init__(self, package: str, name: str, value: str, group: str, detail: str) -> None:
        self.package, self.name, self.value, self.detail = package, name, value, detail
        where = f"entry point {group}: {name} = {value}"
        super().__init__(f"driver {name!r} of package {package!r} ({where}): {detail}")
