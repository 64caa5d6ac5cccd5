"""A throwaway PostgreSQL server for the store's tests and benchmarks: initdb in a temporary
directory, listening on 127.0.0.1 on a free port, trust authentication for the user ``hil``, run as the
``postgres`` account when started by root (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

_counter = itertools.count(1)


def pg_bin() -> Path | None:
    """The directory of PostgreSQL's server binaries, or None when they are not installed."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """``start()``, ``new_database()`` gives a URL to an empty database, ``stop()``."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data = root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "hil", "--auth=trust", "-E", "UTF8"
        )
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off"
        log = str(self.root / "server.log")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://hil@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        name = f"store_{os.getpid()}_{next(_counter)}"
        engine = create_engine(self.url().replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


@contextmanager
def throwaway_server(bindir: Path) -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="hil-pg-"))
    server = PostgresServer(bindir, root)
    try:
        server.start()
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
