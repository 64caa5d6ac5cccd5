"""Model figures that carry their unit and where they come from.

A parameter class declares each figure with ``sourced(value, unit, tag, source)``; the tag follows
the reference's convention: [S] stated in a named public source, [R] recalled from a standard or
datasheet (to be checked against the purchased document), [E] an engineering estimate.
``figures(obj)`` lists them, so a report or a test can show every number with its origin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

TAGS = ("S", "R", "E")


@dataclass(frozen=True)
class Figure:
    name: str
    value: Any
    unit: str
    tag: str
    source: str

    def line(self) -> str:
        return f"{self.name} = {self.value} {self.unit} [{self.tag}: {self.source}]"


def sourced(value: Any, unit: str, tag: str, source: str) -> Any:
    """A dataclass field holding a figure with its unit, source tag and source."""
    if tag not in TAGS:
        raise ValueError(f"source tag {tag!r} is not one of {TAGS}")
    return dataclasses.field(default=value, metadata={"unit": unit, "tag": tag, "source": source})


def figures(obj: Any) -> list[Figure]:
    """Every sourced figure of a parameter dataclass instance, with its current value."""
    return [
        Figure(f.name, getattr(obj, f.name), f.metadata["unit"], f.metadata["tag"], f.metadata["source"])
        for f in dataclasses.fields(obj)
        if "tag" in f.metadata
    ]
