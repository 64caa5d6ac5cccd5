"""The run record's hash: what a certificate prints and `hil verify` recomputes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

KINDS = ("nightly", "certification", "adhoc")  # what a recorded run was


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON (sorted keys, no spaces, strict floats), UTF-8."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
