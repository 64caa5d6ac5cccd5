"""The transport every driver shares: a pyvisa resource with named errors and the last command kept.

Drivers speak only through pyvisa, opened by explicit resource string. They never import the
framework: the safety envelope wraps them from above, by what each instrument kind declares (see
``Operation``): a test reaches a kind's declared operations and nothing else.
"""

from __future__ import annotations

import logging
import re
import select
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyvisa
from pyvisa import constants as vc

from instruments.errors import (
    InstrumentConnectionError,
    InstrumentError,
    InstrumentReportedError,
    InstrumentTimeout,
    MalformedReply,
    OutOfRating,
)

Range = tuple[float, float]

log = logging.getLogger("instruments")

# a read whose reply never comes or does not parse is asked again this many times before it raises:
# a read changes nothing on the instrument; a write is never repeated (it might have been obeyed)
READ_RETRIES = 2


# IEEE 488.2 §10.14 gives *IDN? four fields; vendors add firmware fields after them: an ITECH
# IT6000C answers six (`ITECH Electronics,IT6054C-800-225,<serial>,000.006.101,640.R,132.R`, one
# firmware version per controller) [impl: VlasovLabTech/OpenBench-lab-control/
# docs/itech-it6054c-live-test-2026-08-13.md]. More than that is taken for a garbled reply.
IDN_FIELDS = (4, 6)
_IDN_FIELD = re.compile(r"[\x20-\x7e]+")


@dataclass(frozen=True)
class Identity:
    manufacturer: str
    model: str
    serial: str
    #: the firmware field, or the vendor's several firmware fields joined by ","
    firmware: str

    @classmethod
    def parse(cls, reply: str) -> Identity:
        parts = [p.strip() for p in reply.strip().split(",")]
        low, high = IDN_FIELDS
        if not low <= len(parts) <= high or not all(_IDN_FIELD.fullmatch(p) for p in parts):
            raise ValueError(
                f"*IDN? reply {reply!r} is not 'manufacturer,model,serial,firmware' with up to "
                f"{high - low} more firmware fields, each a non-empty printable ASCII text"
            )
        manufacturer, model, serial, *firmware = parts
        return cls(manufacturer, model, serial, ",".join(firmware))


def on_off(reply: str) -> bool:
    """An IEEE 488.2 boolean reply."""
    if reply in ("1", "ON"):
        return True
    if reply in ("0", "OFF"):
        return False
    raise ValueError("expected 0, 1, ON or OFF")


@dataclass(frozen=True)
class Operation:
    """What a test may call on an instrument kind, declared once on the kind's abstract method.

    ``role`` is "set" (an enveloped ``quantity`` carried by the parameter ``arg``), "act" (a state
    change that carries no enveloped value), "read" (queries only) or "protect" (the instrument's own
    protections: the framework programs them from the envelope, a test never reaches them).
    ``energises`` marks a call that can enable an output: protections are programmed before it runs.
    ``each`` marks a setter whose argument is a sequence of values, every one of them the quantity.
    """

    role: str
    quantity: str | None = None
    arg: str | None = None
    energises: bool = False
    each: bool = False


def _declare(method: Callable[..., Any], operation: Operation) -> Callable[..., Any]:
    function = method.fget if isinstance(method, property) else method
    function.operation = operation  # type: ignore[attr-defined]
    return method


def setter(
    quantity: str, arg: str | None = None, *, energises: bool = False, each: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a kind's method as setting the enveloped ``quantity`` through its parameter ``arg``
    (the quantity's own name unless given); ``energises`` when the call can also start the
    instrument (the dyno's speed and torque commands); ``each`` when ``arg`` is a sequence of values."""
    return lambda method: _declare(method, Operation("set", quantity, arg or quantity, energises, each))


def action(method: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a state change that carries no enveloped value (output off, free run, a mode)."""
    return _declare(method, Operation("act"))


def energising(method: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a call that enables an output: protections are programmed before it runs."""
    return _declare(method, Operation("act", energises=True))


def reading(method: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a read (a method or a property): it only queries."""
    return _declare(method, Operation("read"))


def protecting(method: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a call on the instrument's own protections: the framework's alone."""
    return _declare(method, Operation("protect"))


def kind_of(driver: type) -> type[Instrument]:
    """The instrument kind a driver implements: the class in its ancestry that names ``kind``."""
    for klass in driver.__mro__:
        if "kind" in vars(klass):
            return klass
    raise TypeError(f"{driver.__name__} implements no instrument kind (no class of its ancestry sets `kind`)")


def declared_operations(kind: type) -> dict[str, Operation]:
    """The operations a kind declares, by name, its own and those of the protocols it takes on."""
    found: dict[str, Operation] = {}
    for klass in reversed(kind.__mro__):
        for name, attr in vars(klass).items():
            function = attr.fget if isinstance(attr, property) else attr
            operation = getattr(function, "operation", None)
            if isinstance(operation, Operation):
                found[name] = operation
    return found


def declared_settings(kind: type) -> dict[str, str | None]:
    """The ``Setting`` attributes a test may set on a kind, with the enveloped quantity of each."""
    found: dict[str, str | None] = {}
    for klass in reversed(kind.__mro__):
        found.update(vars(klass).get("SETTINGS", {}))
    return found


def enveloped_quantities(driver: type) -> set[str]:
    """The quantities a test can set through a driver's kind: each needs a limit in the envelope."""
    kind = kind_of(driver)
    quantities = {op.quantity for op in declared_operations(kind).values() if op.quantity is not None}
    return quantities | {q for q in declared_settings(kind).values() if q is not None}


class Setting:
    """One instrument setting: its query, its set command, its rating check and (optionally) the
    enveloped quantity it sets. ``supply.voltage_v = 600`` writes ``VOLT 600``.
    """

    def __init__(
        self,
        query: str | None,
        write: str,
        *,
        quantity: str | None = None,
        rating: str | None = None,
        values: tuple[str, ...] | None = None,
        parse: Callable[[str], Any] = float,
        doc: str = "",
    ) -> None:
        self.query, self.write, self.quantity = query, write, quantity
        self.rating, self.values, self.parse = rating or quantity, values, parse
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, driver: Instrument | None, owner: type) -> Any:
        if driver is None:
            return self
        if self.query is None:
            raise AttributeError(f"{owner.__name__}.{self.name} is write-only")
        return driver.query_value(self.query, self.parse)

    def __set__(self, driver: Instrument, value: Any) -> None:
        if self.values is not None:
            if value not in self.values:
                raise OutOfRating(
                    driver.name, driver.resource_name, f"{self.name}={value!r} is not one of {self.values}"
                )
        elif self.rating is not None:
            driver.check_rating(self.rating, float(value), self.name)
        driver.write(self.write.format(value))


class Instrument(ABC):
    """A pyvisa message-based instrument with the driver conventions of this package."""

    kind: ClassVar[str]
    driver: ClassVar[str]
    read_termination: ClassVar[str] = "\n"
    write_termination: ClassVar[str] = "\n"
    #: model name -> {rating name: (low, high)}: what the hardware itself can do.
    MODELS: ClassVar[dict[str, dict[str, Range]]]
    DEFAULT_MODEL: ClassVar[str]
    #: headers no manual or proven implementation confirms; `hil bench check` lists them for a lab bench
    UNVERIFIED: ClassVar[tuple[str, ...]] = ()

    def __init__(self, resource: Any, *, name: str, resource_name: str, model: str | None = None) -> None:
        self._resource = resource
        self.name = name
        self.resource_name = resource_name
        self.model = model or self.DEFAULT_MODEL
        if self.model not in self.MODELS:
            raise ValueError(f"{self.driver} has no model {self.model!r}; known: {', '.join(self.MODELS)}")
        self.last_command = ""
        self._cut_short = False  # an exchange was interrupted: its late reply is discarded first

    @classmethod
    def open(
        cls,
        resource_manager: pyvisa.ResourceManager,
        resource_name: str,
        *,
        name: str,
        model: str | None = None,
        timeout_ms: int = 2000,
        open_timeout_ms: int = 2000,
    ) -> Instrument:
        host = re.match(r"^TCPIP\d*::([^:]+)::", resource_name)
        if host is not None:
            try:
                socket.getaddrinfo(host.group(1), None)
            except OSError as exc:
                raise InstrumentConnectionError(
                    name, resource_name, f"cannot resolve host {host.group(1)!r}: {exc}"
                ) from None
        try:
            resource = resource_manager.open_resource(
                resource_name,
                open_timeout=open_timeout_ms,
                read_termination=cls.read_termination,
                write_termination=cls.write_termination,
                timeout=timeout_ms,
            )
        except Exception as exc:  # pyvisa-py raises bare Exception for an unknown host or refused port
            raise InstrumentConnectionError(name, resource_name, f"cannot open: {_describe(exc)}") from exc
        _send_without_delay(resource)
        return cls(resource, name=name, resource_name=resource_name, model=model)

    @classmethod
    def ratings(cls, model: str | None = None) -> dict[str, Range]:
        return cls.MODELS[model or cls.DEFAULT_MODEL]

    def check_rating(self, rating: str, value: float, what: str) -> None:
        low, high = self.MODELS[self.model][rating]
        if not low <= value <= high:
            raise OutOfRating(
                self.name,
                self.resource_name,
                f"{what}={value:g} is outside the {self.model} rating {rating} [{low:g}, {high:g}]",
            )

    # --- transport -----------------------------------------------------------------------------
    @contextmanager
    def _talking(self, command: str) -> Iterator[None]:
        if self._cut_short:
            self._cut_short = False
            self._discard_late_reply()
        self.last_command = command
        try:
            yield
        except pyvisa.VisaIOError as exc:
            if exc.error_code == vc.StatusCode.error_timeout:
                raise InstrumentTimeout(
                    self.name,
                    self.resource_name,
                    f"no reply within {self._resource.timeout:g} ms to {command!r}",
                ) from exc
            raise InstrumentError(self.name, self.resource_name, f"{command!r}: {_describe(exc)}") from exc
        except UnicodeDecodeError as exc:
            raise MalformedReply(
                self.name, self.resource_name, f"reply to {command!r} is not ASCII (byte {exc.start})"
            ) from exc
        except (OSError, pyvisa.Error) as exc:
            raise InstrumentError(self.name, self.resource_name, f"{command!r}: {_describe(exc)}") from exc
        except BaseException:
            # an exchange cut short (Ctrl-C, a stop signal) is still answered: that reply must not
            # answer the next question, the safe state's first among them
            self._cut_short = True
            raise

    def write(self, command: str) -> None:
        with self._talking(command):
            self._resource.write(command)

    def query(self, command: str) -> str:
        with self._talking(command):
            return self._resource.query(command).strip()

    def query_value(self, command: str, parse: Callable[[str], Any] = float) -> Any:
        """A read: ``command``'s reply through ``parse``; a timeout or a reply ``parse`` refuses is
        retried ``READ_RETRIES`` times."""

        def parsed(reply: str) -> Any:
            try:
                return parse(reply)
            except (ValueError, IndexError) as exc:
                raise MalformedReply(
                    self.name, self.resource_name, f"reply {reply!r} to {command!r}: {exc}"
                ) from exc

        return self._read(command, parsed)

    def query_floats(self, command: str, count: int | None = None) -> list[float]:
        """A read of comma-separated numbers, retried as ``query_value`` is."""

        def floats(reply: str) -> list[float]:
            try:
                values = [float(v) for v in reply.split(",")]
            except ValueError as exc:
                raise MalformedReply(
                    self.name, self.resource_name, f"reply {reply!r} to {command!r} is not a list of numbers"
                ) from exc
            if count is not None and len(values) != count:
                raise MalformedReply(
                    self.name,
                    self.resource_name,
                    f"reply to {command!r} has {len(values)} values, expected {count}",
                )
            return values

        return self._read(command, floats)

    def _read(self, command: str, convert: Callable[[str], Any]) -> Any:
        for attempt in range(READ_RETRIES + 1):
            try:
                return convert(self.query(command))
            except (InstrumentTimeout, MalformedReply) as exc:
                if attempt == READ_RETRIES:
                    raise type(exc)(
                        self.name, self.resource_name, f"{exc.detail} (asked {READ_RETRIES + 1} times)"
                    ) from exc
                log.warning("%s: %s; asking again", self.name, exc.detail)
                if isinstance(exc, InstrumentTimeout):
                    self._discard_late_reply()

    def _discard_late_reply(self) -> None:
        """A reply that comes after the timeout would answer the next question: drop what is pending.
        (pyvisa-py's ``clear()`` spins forever on a socket the instrument closed.)"""
        session = _socket_session(self._resource)
        sock = getattr(session, "interface", None)
        if not isinstance(sock, socket.socket):
            return
        pending = getattr(session, "_pending_buffer", None)
        if isinstance(pending, bytearray):
            pending.clear()
        for _ in range(64):
            ready, _, _ = select.select([sock], [], [], 0.05)
            if not ready:
                return
            try:
                if not sock.recv(65536):
                    return  # closed by the instrument: the next attempt will say so
            except OSError:
                return

    def query_block(self, command: str, dtype: str) -> np.ndarray:
        """An IEEE 488.2 definite-length binary block (``#<n><length><bytes>``), little-endian, then
        the reply's terminator; the array is read-only.

        The block is read with the termination character off: its bytes hold that character
        anywhere, and a read that stops at each one (as pyvisa's ``query_binary_values`` does on
        a socket) took some 225 000 reads and 0.8 s of CPU for a 32 MB record."""
        item = np.dtype(dtype).newbyteorder("<")
        with self._talking(command):
            resource = self._resource
            resource.write(command)
            termination = resource.read_termination
            resource.read_termination = None
            try:
                head = resource.read_bytes(2)
                if head[:1] != b"#" or not head[1:].isdigit() or head[1:] == b"0":
                    raise self._malformed_block(command, f"starts {head!r}, not a definite-length header")
                digits = resource.read_bytes(int(head[1:]))
                if not digits.isdigit():
                    raise self._malformed_block(command, f"length field {digits!r} is not a number")
                size = int(digits)
                if size % item.itemsize:
                    raise self._malformed_block(command, f"{size} bytes is not a whole number of {dtype!r}")
                payload = resource.read_bytes(size, chunk_size=size) if size else b""
                end = resource.read_bytes(len(termination)) if termination else b""
                if termination and end != termination.encode():
                    raise self._malformed_block(
                        command, f"{size} bytes are followed by {end!r}, not the terminator"
                    )
            finally:
                resource.read_termination = termination
        return np.frombuffer(payload, dtype=item)

    def _malformed_block(self, command: str, detail: str) -> MalformedReply:
        return MalformedReply(self.name, self.resource_name, f"block reply to {command!r}: {detail}")

    def identify(self) -> Identity:
        reply = self.query("*IDN?")
        try:
            return Identity.parse(reply)
        except ValueError as exc:
            raise MalformedReply(self.name, self.resource_name, str(exc)) from exc

    def check_errors(self) -> None:
        """Instruments without an error queue have nothing to report."""

    def close(self) -> None:
        self._resource.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.model} at {self.resource_name}>"


_ERROR_ENTRY = re.compile(r'^\s*([+-]?\d{1,9})\s*,\s*"(.*)"\s*$')


class ScpiInstrument(Instrument):
    """IEEE 488.2 / SCPI: an error queue read with ``SYST:ERR?`` until ``0,"No error"``."""

    MAX_ERROR_ENTRIES: ClassVar[int] = 32

    def check_errors(self) -> None:
        command = self.last_command
        entries: list[tuple[int, str]] = []
        for _ in range(self.MAX_ERROR_ENTRIES):
            reply = self.query("SYST:ERR?")
            match = _ERROR_ENTRY.match(reply)
            if match is None:
                raise MalformedReply(
                    self.name, self.resource_name, f'reply {reply!r} to "SYST:ERR?" is not <code>,"<text>"'
                )
            code = int(match.group(1))
            if code == 0:
                break
            entries.append((code, match.group(2)))
        self.last_command = command
        if entries:
            raise InstrumentReportedError(self.name, self.resource_name, command, entries)

    def reset(self) -> None:
        self.write("*RST")
        self.write("*CLS")

    def wait_complete(self) -> None:
        if self.query("*OPC?") != "1":
            raise MalformedReply(
                self.name, self.resource_name, f"*OPC? after {self.last_command!r} did not answer 1"
            )


class DcReadback(ABC):
    """The DC read-backs a supply and a load both offer."""

    @reading
    @abstractmethod
    def measure_voltage(self) -> float: ...
    @reading
    @abstractmethod
    def measure_current(self) -> float: ...
    @reading
    @abstractmethod
    def measure_power(self) -> float: ...


class ScpiDcReadback(DcReadback):
    """``MEAS:VOLT?``/``MEAS:CURR?``/``MEAS:POW?``, the SCPI-99 spelling both families answer."""

    def measure_voltage(self) -> float:
        return self.query_value("MEAS:VOLT?")  # type: ignore[attr-defined]

    def measure_current(self) -> float:
        return self.query_value("MEAS:CURR?")  # type: ignore[attr-defined]

    def measure_power(self) -> float:
        return self.query_value("MEAS:POW?")  # type: ignore[attr-defined]


def _send_without_delay(resource: Any) -> None:
    """Turn Nagle's algorithm off on a raw-socket resource, as NI-VISA does by default
    (VI_ATTR_TCPIP_NODELAY true). With it on, a command followed by a query within ~40 ms waits
    for the peer's delayed ACK of the command: every write-then-query exchange of a 100 Hz loop
    would take 40 ms. pyvisa-py leaves it on and refuses the attribute for SOCKET sessions
    [S: pyvisa_py 0.8.1 tcpip.py maps its setter to _set_attribute, which raises UnknownAttribute],
    so its session's socket is set directly; other backends are left as they are."""
    sock = getattr(_socket_session(resource), "interface", None)
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _socket_session(resource: Any) -> Any:
    """pyvisa-py's session of a raw-socket resource (None for other resources and backends)."""
    if not str(getattr(resource, "resource_name", "")).upper().endswith("::SOCKET"):
        return None
    sessions = getattr(getattr(resource, "visalib", None), "sessions", None)
    return sessions.get(resource.session) if isinstance(sessions, dict) else None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
