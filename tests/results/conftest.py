"""The store's tests run against SQLite and a real PostgreSQL server (``hil.results.pg_server``, one
per session). Without PostgreSQL's binaries its tests skip, except in CI (``CI`` set), where they
fail: there the store must be proven on both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg  # noqa: F401  (see below)
import pytest

# psycopg is imported before any test: pytester drops the modules a test imported first, and psycopg's
# compiled core would go on raising the dropped module's exception classes, which SQLAlchemy no
# longer recognises (a refused connection then escapes unwrapped)
from hil.results.pg_server import PostgresServer, pg_bin, throwaway_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's binaries (initdb, pg_ctl) are missing; .ci/run installs them")
        pytest.skip("PostgreSQL's binaries (initdb, pg_ctl) are not installed (Debian: postgresql)")
    with throwaway_server(bindir) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results' / 'hil.sqlite'}"
    return request.getfixturevalue("postgres").new_database()
