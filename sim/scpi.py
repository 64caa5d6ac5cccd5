"""A SCPI command engine: a table of header patterns with handlers, the IEEE 488.2 commons and an
error queue, as an instrument's firmware parser behaves (SCPI-99 vol. 1 §6-7, IEEE 488.2 §10).

Patterns use the manual's notation: ``[SOURce:]VOLTage[:LEVel]`` (upper case = short form, ``[]`` =
optional node), ``:NUMeric:NORMal:ITEM<n>`` (numeric suffix, default 1), a trailing ``?`` for
queries. A header matches when each node is given in exactly its short or long form, in any case.
"""

from __future__ import annotations

import logging
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

log = logging.getLogger("sim.scpi")

ERROR_TEXTS = {
    0: "No error",
    -100: "Command error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -131: "Invalid suffix",
    -200: "Execution error",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -241: "Hardware missing",
    -300: "Device-specific error",
    -350: "Queue overflow",
}
QUEUE_LENGTH = 32

# *ESR? bits (IEEE 488.2 §11.5.1): which class of error sets which bit
ESR_OPC, ESR_QUERY, ESR_DEVICE, ESR_EXECUTION, ESR_COMMAND = 0x01, 0x04, 0x08, 0x10, 0x20
# *STB? bits: error/event queue not empty, event status summary
STB_EAV, STB_ESB = 0x04, 0x20


class ScpiError(Exception):
    """A command the instrument refuses: its SCPI error code and text go on the error queue."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        text = ERROR_TEXTS.get(code, "Error")
        self.text = f"{text};{detail}" if detail else text
        super().__init__(f'{code},"{self.text}"')


Reply = str | bytes | None


@dataclass(frozen=True)
class _Node:
    short: str
    long: str
    optional: bool
    suffixed: bool

    def accepts(self, token: str) -> int | None:
        """The numeric suffix the token carries (0 when the node takes none), None if no match."""
        if not self.suffixed:
            return 0 if token in (self.short, self.long) else None
        match = re.fullmatch(r"(.*?)(\d{0,9})", token)
        if match is not None and match.group(1) in (self.short, self.long):
            return int(match.group(2) or 1)
        return None


def _compile(pattern: str) -> tuple[list[_Node], bool]:
    query = pattern.endswith("?")
    body = pattern.removesuffix("?")
    nodes: list[_Node] = []
    for optional_part, required_part in re.findall(r"\[:?([^\]]+?):?\]|:?([^:\[]+)", body):
        text = optional_part or required_part
        suffixed = text.endswith("<n>")
        name = text.removesuffix("<n>")
        short = "".join(c for c in name if not c.islower())
        nodes.append(_Node(short, name.upper(), bool(optional_part), suffixed))
    return nodes, query


class Call:
    """One parsed command as a handler sees it: its arguments, suffixes and typed accessors."""

    def __init__(self, args: list[str], suffixes: tuple[int, ...], query: bool) -> None:
        self.args, self.suffixes, self.query = args, suffixes, query

    @property
    def suffix(self) -> int:
        return self.suffixes[0] if self.suffixes else 1

    def has(self, index: int) -> bool:
        return index < len(self.args) and self.args[index] != ""

    def text(self, index: int) -> str:
        if not self.has(index):
            raise ScpiError(-109, f"parameter {index + 1}")
        return self.args[index]

    def number(self, index: int, unit: str = "", limits: tuple[float, float] | None = None) -> float:
        """A decimal numeric parameter, with an optional unit suffix (``600V``, ``200mA``) and
        MINimum/MAXimum when ``limits`` is known. Out of ``limits`` is -222."""
        text = self.text(index).strip().upper()
        if limits is not None and text in ("MIN", "MINIMUM"):
            return limits[0]
        if limits is not None and text in ("MAX", "MAXIMUM"):
            return limits[1]
        match = re.fullmatch(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?)\s*([A-Z]*)", text)
        if match is None:
            raise ScpiError(-104, f"{self.args[index]!r} is not a number")
        value = float(match.group(1))
        if not math.isfinite(value):
            raise ScpiError(-222, f"{self.args[index]!r} is not a finite number")
        suffix = match.group(2)
        if suffix:
            scale = _unit_scale(suffix, unit)
            if scale is None:
                raise ScpiError(-131, f"{suffix!r} after {match.group(1)}")
            value *= scale
        if limits is not None and not limits[0] <= value <= limits[1]:
            raise ScpiError(-222, f"{value:g} is outside [{limits[0]:g}, {limits[1]:g}]")
        return value

    def integer(self, index: int, limits: tuple[int, int] | None = None) -> int:
        value = self.number(index, limits=None)
        if value != int(value):
            raise ScpiError(-104, f"{self.args[index]!r} is not an integer")
        if limits is not None and not limits[0] <= value <= limits[1]:
            raise ScpiError(-222, f"{value:g} is outside [{limits[0]}, {limits[1]}]")
        return int(value)

    def boolean(self, index: int) -> bool:
        text = self.text(index).strip().upper()
        if text in ("ON", "1"):
            return True
        if text in ("OFF", "0"):
            return False
        raise ScpiError(-224, f"{self.args[index]!r} is not ON, OFF, 1 or 0")

    def choice(self, index: int, choices: Sequence[str]) -> str:
        """An enumerated parameter given in short or long form; returns the choice's long form as
        written in ``choices`` (e.g. ``ASCii`` -> ``ASCII``)."""
        text = self.text(index).strip().upper()
        for choice in choices:
            if text in (choice.upper(), "".join(c for c in choice if not c.islower())):
                return choice.upper()
        raise ScpiError(-224, f"{self.args[index]!r} is not one of {', '.join(choices)}")

    def channels(self, index: int, count: int) -> list[int]:
        """A SCPI channel list ``(@1:24)``, ``(@5)``, ``(@1,3,5)``; all channels when absent."""
        if not self.has(index):
            return list(range(1, count + 1))
        text = self.args[index].strip()
        if not (text.startswith("(@") and text.endswith(")")):
            raise ScpiError(-104, f"{text!r} is not a channel list (@...)")
        channels: list[int] = []
        for part in text[2:-1].split(","):
            low, _, high = part.strip().partition(":")
            try:
                first, last = int(low), int(high or low)
            except ValueError:
                raise ScpiError(-104, f"{text!r} is not a channel list (@...)") from None
            # checked before the range is built: (@1:999999999) must not fill the memory
            bad = [c for c in (first, last) if not 1 <= c <= count]
            if bad:
                raise ScpiError(-222, f"channel {bad[0]} is not in 1..{count}")
            step = 1 if last >= first else -1
            channels.extend(range(first, last + step, step))
            if len(channels) > 16 * count:
                raise ScpiError(-108, f"more than {16 * count} channels in one list")
        return channels


_SI_PREFIX = {"": 1.0, "U": 1e-6, "M": 1e-3, "K": 1e3, "MA": 1e6}


def _unit_scale(suffix: str, unit: str) -> float | None:
    unit = unit.upper()
    if not unit or not suffix.endswith(unit):
        return None
    prefix = suffix[: len(suffix) - len(unit)]
    if unit == "HZ" and prefix == "M":
        return 1e6  # SCPI-99 §7.7.3: MHZ is megahertz, as MOHM is megohm
    return _SI_PREFIX.get(prefix)


def format_number(value: float) -> str:
    if math.isnan(value):
        return "NAN"
    return f"{value:.7g}"


def format_numbers(values: Iterable[float]) -> str:
    return ",".join(format_number(v) for v in values)


def definite_block(payload: bytes) -> bytes:
    """IEEE 488.2 §8.7.9 definite-length arbitrary block: ``#<n><length><bytes>``."""
    length = str(len(payload))
    return f"#{len(length)}{length}".encode("ascii") + payload


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside quotes and parentheses (channel lists hold commas)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if quote or depth:
        raise ScpiError(-102, "unbalanced quotes or parentheses")
    parts.append(text[start:])
    return parts


@dataclass
class _Entry:
    nodes: list[_Node]
    query: bool
    handler: Callable[[Call], Reply]
    guarded: bool = True

    def match(self, tokens: list[str]) -> tuple[int, ...] | None:
        suffixes: list[int] = []

        def walk(i: int, j: int) -> bool:
            if i == len(self.nodes):
                return j == len(tokens)
            node = self.nodes[i]
            if j < len(tokens):
                suffix = node.accepts(tokens[j])
                if suffix is not None:
                    if node.suffixed:
                        suffixes.append(suffix)
                    if walk(i + 1, j + 1):
                        return True
                    if node.suffixed:
                        suffixes.pop()
            if node.optional:
                if node.suffixed:
                    suffixes.append(1)
                if walk(i + 1, j):
                    return True
                if node.suffixed:
                    suffixes.pop()
            return False

        return tuple(suffixes) if walk(0, 0) else None

    def header(self, suffixes: tuple[int, ...]) -> str:
        """Short form with the leading optional nodes (``SOUR``) and without the trailing defaults
        (``LEV``, ``IMM``): the one spelling of every way to send this command."""
        parts, numbers = [], iter(suffixes)
        required_seen = False
        for node in self.nodes:
            required_seen = required_seen or not node.optional
            if node.optional and required_seen:
                if node.suffixed:
                    next(numbers)
                continue
            parts.append(node.short + (str(next(numbers)) if node.suffixed else ""))
        return ":".join(parts) + ("?" if self.query else "")


LogSink = Callable[[str, str, list[str], int], None]


class ScpiEngine:
    """Parses program messages, dispatches each command and keeps the 488.2 status and error queue.

    ``identity`` answers ``*IDN?``; ``reset`` runs on ``*RST``; ``log(command, header, args, error)``
    sees every command of every message.
    """

    def __init__(
        self,
        identity: str,
        reset: Callable[[], None],
        log: LogSink | None = None,
        guard: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self.identity = identity
        self._guard = guard
        self._reset = reset
        self._log = log
        self._table: list[_Entry] = []
        self._errors: deque[tuple[int, str]] = deque()
        self.esr = 0
        self.ese = 0
        self.sre = 0
        self._add_commons()

    # --- table ------------------------------------------------------------------------------------
    def add(
        self,
        pattern: str,
        setter: Callable[[Call], None] | None = None,
        getter: Callable[[Call], Reply] | None = None,
        *,
        guarded: bool = True,
    ) -> None:
        """Register the set form and/or the query form of ``pattern``; ``guarded=False`` for a
        handler that touches none of the state the engine's guard protects."""
        nodes, query_only = _compile(pattern)
        if setter is not None and not query_only:
            self._table.append(_Entry(nodes, False, setter, guarded))
        if getter is not None:
            self._table.append(_Entry(nodes, True, getter, guarded))

    def remove(self, pattern: str) -> None:
        """Drop both forms of ``pattern``: a common header this instrument does not have (a
        Yokogawa has no SYSTem:ERRor? queue) is then an undefined header, as on the instrument."""
        nodes, _ = _compile(pattern)
        self._table = [entry for entry in self._table if entry.nodes != nodes]

    def _add_commons(self) -> None:
        def reset(_: Call) -> None:
            self._reset()

        def clear(_: Call) -> None:
            self._errors.clear()
            self.esr = 0

        def read_esr(_: Call) -> str:
            value, self.esr = self.esr, 0
            return str(value)

        def set_opc(_: Call) -> None:
            self.esr |= ESR_OPC

        def set_ese(call: Call) -> None:
            self.ese = call.integer(0, (0, 255))

        def set_sre(call: Call) -> None:
            self.sre = call.integer(0, (0, 255))

        def nothing(_: Call) -> None:
            return None

        commons: list[tuple[str, Callable[[Call], None] | None, Callable[[Call], Reply] | None]] = [
            ("*IDN?", None, lambda _: self.identity),
            ("*RST", reset, None),
            ("*CLS", clear, None),
            ("*OPC", set_opc, lambda _: "1"),
            ("*WAI", nothing, None),
            ("*ESR?", None, read_esr),
            ("*ESE", set_ese, lambda _: str(self.ese)),
            ("*SRE", set_sre, lambda _: str(self.sre)),
            ("*STB?", None, lambda _: str(self.status_byte())),
            ("*TST?", None, lambda _: "0"),
            ("SYSTem:ERRor[:NEXT]?", None, lambda _: self.next_error()),
            ("SYSTem:ERRor:COUNt?", None, lambda _: str(len(self._errors))),
            ("SYSTem:VERSion?", None, lambda _: "1999.0"),
            ("SYSTem:REMote", nothing, None),
            ("SYSTem:LOCal", nothing, None),
        ]
        for pattern, set_form, query_form in commons:
            self.add(pattern, setter=set_form, getter=query_form)

    # --- status -----------------------------------------------------------------------------------
    def push_error(self, code: int, text: str) -> None:
        if len(self._errors) >= QUEUE_LENGTH:
            self._errors[-1] = (-350, ERROR_TEXTS[-350])
        else:
            self._errors.append((code, text))
        if -199 <= code <= -100:
            self.esr |= ESR_COMMAND
        elif -299 <= code <= -200:
            self.esr |= ESR_EXECUTION
        elif -399 <= code <= -300 or code > 0:
            self.esr |= ESR_DEVICE
        elif -499 <= code <= -400:
            self.esr |= ESR_QUERY

    def next_error(self) -> str:
        code, text = self._errors.popleft() if self._errors else (0, ERROR_TEXTS[0])
        return f'{code},"{text}"'

    def status_byte(self) -> int:
        return (STB_EAV if self._errors else 0) | (STB_ESB if self.esr & self.ese else 0)

    # --- execution --------------------------------------------------------------------------------
    def execute(self, message: str) -> bytes | None:
        """Run one program message (one line); the replies of its queries joined by ``;``."""
        replies: list[bytes] = []
        try:
            commands = _split_top_level(message, ";")
        except ScpiError as exc:
            self._record(message.strip(), message.strip().split(" ")[0].upper(), [], exc.code)
            self.push_error(exc.code, exc.text)
            return None
        path: list[str] = []
        for command in commands:
            command = command.strip()
            if command:
                reply, path = self._run(command, path)
                if reply is not None:
                    # a reply may quote what was sent, which need not be ASCII
                    replies.append(
                        reply.encode("ascii", "backslashreplace") if isinstance(reply, str) else reply
                    )
        return b";".join(replies) if replies else None

    def _run(self, command: str, path: list[str]) -> tuple[Reply, list[str]]:
        head, _, rest = command.partition(" ")
        head, rest = head.strip(), rest.strip()
        query = head.endswith("?")
        header_text = head.removesuffix("?").upper()
        args = [a.strip() for a in _split_top_level(rest, ",")] if rest else []
        shown = header_text.lstrip(":") + ("?" if query else "")
        if header_text.startswith("*"):
            candidates, new_path = [[header_text]], path
        else:
            tokens = header_text.removeprefix(":").split(":")
            # SCPI-99 §6.2.4: after ';' a header without a leading ':' continues the previous
            # command's path; many instruments also take it from the root, so both are tried.
            candidates = [tokens] if header_text.startswith(":") or not path else [path + tokens, tokens]
            new_path = path
        found: tuple[_Entry, tuple[int, ...], list[str]] | None = None
        if all(all(candidate) for candidate in candidates):
            found = self._lookup(candidates, query)
        if found is None:
            self._record(command, shown, args, -113)
            self.push_error(-113, ERROR_TEXTS[-113])
            return None, new_path
        entry, suffixes, tokens = found
        if not header_text.startswith("*"):
            new_path = tokens[:-1]
        error, reply = 0, None
        try:
            if entry.guarded:
                with self._guard():
                    reply = entry.handler(Call(args, suffixes, query))
            else:
                reply = entry.handler(Call(args, suffixes, query))
        except ScpiError as exc:
            error = exc.code
            self.push_error(exc.code, exc.text)
        except Exception:
            # a handler bug must not take the instrument down: report it as the firmware would
            log.exception("handler for %r failed", command)
            error = -300
            self.push_error(-300, ERROR_TEXTS[-300])
        self._record(command, entry.header(suffixes), args, error)
        return reply, new_path

    def _lookup(
        self, candidates: list[list[str]], query: bool
    ) -> tuple[_Entry, tuple[int, ...], list[str]] | None:
        for tokens in candidates:
            for entry in self._table:
                if entry.query == query:
                    suffixes = entry.match(tokens)
                    if suffixes is not None:
                        return entry, suffixes, tokens
        return None

    def _record(self, command: str, header: str, args: list[str], error: int) -> None:
        if self._log is not None:
            self._log(command, header, args, error)
