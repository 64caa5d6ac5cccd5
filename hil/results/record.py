"""The run record's hash: what a certificate states and ``hil verify`` recomputes from the store."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 hex of the record as canonical JSON (sorted keys, no spaces, UTF-8, floats as repr)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finite_or_text(value: float | None) -> float | str | None:
    """A float for the record: non-finite values as "nan"/"inf"/"-inf", so the JSON stays strict;
    -0.0 as 0.0 (SQLite keeps no sign on a zero, PostgreSQL does: the hash must not depend on which)."""
    if value is None:
        return None
    if math.isfinite(value):
        return value + 0.0
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"
