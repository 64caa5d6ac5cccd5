"""The result record and its store (SQLite or PostgreSQL): what was tested, where, with what, how."""

from hil.results.record import record_hash
from hil.results.store import DEFAULT_DB, Store, StoreError

__all__ = ["DEFAULT_DB", "Store", "StoreError", "record_hash"]
