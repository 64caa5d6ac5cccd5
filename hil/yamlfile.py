"""Reading a YAML file someone else wrote: a bench file, a spec file, a unit profile.

Whatever the file holds (a directory's name, a FIFO, binary bytes, nesting thousands deep, aliases
that multiply into millions of nodes), the reader raises ``YamlFileError`` with one line saying
what is wrong, never hangs and never lets a ``RecursionError`` or ``UnicodeDecodeError`` through.
Only depends on PyYAML, so the simulated bench reads its files the same way.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64


class YamlFileError(ValueError):
    """A YAML file that cannot be read: ``where`` is empty or ``line N``, ``message`` says why."""

    def __init__(self, where: str, message: str) -> None:
        self.where, self.message = where, message
        super().__init__(f"{where}: {message}" if where else message)


class _Loader(yaml.SafeLoader):
    """Safe loading without aliases and without nesting past ``MAX_DEPTH``: an alias lets a few
    lines expand into an exponential number of nodes, and deep nesting exhausts Python's stack."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor}: anchors and aliases are not accepted", event.start_mark
            )
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} deep", self.peek_event().start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(path: str | Path) -> Any:
    """The document in the regular file ``path`` (None when it is empty)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the regular-file check follows
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise YamlFileError("", "no such file") from None
    except OSError as exc:
        raise YamlFileError("", f"cannot open: {exc.strerror}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO, device or socket"
        raise YamlFileError("", f"not a regular file ({kind})")
    with os.fdopen(descriptor, "rb") as stream:
        try:
            data = stream.read(MAX_BYTES + 1)
        except OSError as exc:
            raise YamlFileError("", f"cannot read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise YamlFileError("", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError("", f"not UTF-8 text (byte {exc.start})") from None
    return parse_yaml(text)


def parse_yaml(text: str) -> Any:
    """The document in ``text``, with the same limits as a file."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlFileError(where, f"not valid YAML: {problem}") from None
