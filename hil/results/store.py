"""The result store: every run, unit, instrument, test attempt and measurement, committed as it happens.

``Store(url)`` opens SQLite (a path or ``sqlite:///path``; WAL, so readers never wait for the writer
and several writers take turns under a busy timeout) or PostgreSQL (``postgresql://…``) through one
SQLAlchemy Core layer; the schema is brought to the newest Alembic revision on open. Each write is
one short transaction, so a process killed at any moment loses nothing it had recorded; its run,
left without an outcome, is marked aborted by the next ``Store`` opened on the same host.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from hil.errors import HilError
from hil.results import schema
from hil.results.provenance import sha256_file
from hil.results.record import KINDS

DEFAULT_DB = "results/hil.sqlite"
# partial: a certification that passed what it ran but not the whole eol subset (no verdict)
RUN_OUTCOMES = ("pass", "fail", "error", "aborted", "partial")
VERDICTS = ("pass", "marginal", "fail")
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
# one key for every process migrating a PostgreSQL database (pg_advisory_xact_lock)
_PG_MIGRATION_LOCK = 0x48494C
_ATTEMPT_RETRIES = 5


class StoreError(HilError):
    """A store URL that cannot be opened, or a write the store refuses (unknown run, bad outcome)."""


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


def now(timespec: str = "milliseconds") -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec=timespec)


def process_started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None where that is unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces; the fields after its closing parenthesis do not
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    return started is None or process_started(pid) in (None, started)


def parse_url(url: str) -> URL:
    """A store URL (a path or ``sqlite:///path``, or ``postgresql://…``) checked, not connected."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite" and (not parsed.database or parsed.database == ":memory:"):
        raise StoreError("a SQLite store needs a file (sqlite:///results/hil.sqlite)")
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {backend!r} (sqlite:///FILE or postgresql://…)")
    return parsed


def engine_for(url: str) -> Engine:
    """An engine for a store URL: a path or ``sqlite:///path``, or ``postgresql://…``."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            # the driver's own transaction handling off: each transaction starts as BEGIN IMMEDIATE
            # below, so a writer waits its turn (busy timeout) instead of failing on lock upgrade
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            _switch_to_wal(cursor)
            # WAL + NORMAL: a commit survives the process being killed (not a power cut)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2") and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ImportError as exc:
            raise StoreError(
                f"no driver for {parsed.drivername} ({exc.name}); postgresql:// uses psycopg"
            ) from None
    raise AssertionError(backend)  # parse_url admits no other backend


def _switch_to_wal(cursor: Any) -> None:
    """``journal_mode=WAL`` on a new file needs the database to itself, and SQLite reports a second
    writer opening it at that moment as locked at once, without its busy timeout: ask again until
    the busy timeout has passed."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Store:
    """The result store at ``url``; see the module's docstring."""

    def __init__(self, url: str = DEFAULT_DB) -> None:
        self.url = url
        self.engine = engine_for(url)
        self.host = socket.gethostname()
        try:
            self._migrate()
            self.aborted = self.mark_dead_runs_aborted()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            # the driver's first line says it (connection refused, no such database, not a database file)
            raise StoreError(
                f"cannot open the store: {str(exc.orig or exc).strip().splitlines()[0]}"
            ) from None

    def _migrate(self) -> None:
        # imported here: Alembic takes most of a second, and every run and guardian imports this module
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # two benches opening a new database at once: one creates the tables, the other waits
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- runs ------------------------------------------------------------------------------------
    def mark_dead_runs_aborted(self) -> list[int]:
        """Runs of this host whose process is gone without an outcome: aborted. Returns their ids."""
        runs = schema.runs
        with self.engine.begin() as conn:
            open_runs = conn.execute(
                select(runs.c.id, runs.c.pid, runs.c.process_started).where(
                    runs.c.outcome.is_(None), runs.c.host == self.host
                )
            ).all()
            dead = [r.id for r in open_runs if not _alive(r.pid, r.process_started)]
            if dead:
                conn.execute(
                    runs.update()
                    .where(runs.c.id.in_(dead), runs.c.outcome.is_(None))
                    .values(outcome="aborted", complete=False)
                )
        return dead

    def start_run(
        self,
        kind: str,
        *,
        serial: str | None = None,
        bench_file: str | None = None,
        bench_sha256: str | None = None,
        operator: str | None = None,
        revision: str | None = None,
        specs_sha256: str | None = None,
        unit_profile: str | None = None,
        seed: int | None = None,
        pid: int | None = None,
    ) -> int:
        """A new run; a certification needs ``serial`` and gets the next attempt number of it."""
        if kind not in KINDS:
            raise StoreError(f"run kind {kind!r}: one of {', '.join(KINDS)}")
        if kind == "certification" and not serial:
            raise StoreError("a certification run names the unit's serial")
        pid = os.getpid() if pid is None else pid
        values = {
            "kind": kind,
            "serial": serial,
            "bench_file": bench_file,
            "bench_sha256": bench_sha256,
            "operator": operator,
            "host": self.host,
            "pid": pid,
            "process_started": process_started(pid),
            "started": now("seconds"),
            "revision": revision,
            "specs_sha256": specs_sha256,
            "complete": False,
            "unit_profile": unit_profile,
            "seed": seed,
        }
        runs = schema.runs
        for _ in range(_ATTEMPT_RETRIES):
            try:
                with self.engine.begin() as conn:
                    if kind == "certification":
                        last = conn.execute(
                            select(func.max(runs.c.attempt)).where(
                                runs.c.kind == kind, runs.c.serial == serial
                            )
                        ).scalar()
                        values["attempt"] = (last or 0) + 1
                    run_id = conn.execute(runs.insert().values(**values)).inserted_primary_key[0]
                if serial:
                    self.set_unit(run_id, serial)
                return int(run_id)
            except IntegrityError:
                continue  # another bench took this attempt number of the serial at the same moment
        raise StoreError(f"serial {serial}: could not take an attempt number ({_ATTEMPT_RETRIES} tries)")

    def check_run(self, run_id: int) -> int:
        """``run_id`` if the store holds that run and it has not ended yet."""
        runs = schema.runs
        with self.engine.connect() as conn:
            row = conn.execute(select(runs.c.outcome).where(runs.c.id == run_id)).first()
        if row is None:
            raise StoreError(f"no run {run_id}")
        if row.outcome is not None:
            raise StoreError(f"run {run_id} has ended ({row.outcome})")
        return run_id

    def end_run(self, run_id: int, outcome: str) -> None:
        """The run's outcome (pass, fail, error: complete; aborted: not)."""
        if outcome not in RUN_OUTCOMES:
            raise StoreError(f"run outcome {outcome!r}: one of {', '.join(RUN_OUTCOMES)}")
        self._update(
            schema.runs, run_id, ended=now("seconds"), outcome=outcome, complete=outcome != "aborted"
        )

    def _update(self, table: Any, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            if conn.execute(table.update().where(table.c.id == row_id).values(**values)).rowcount != 1:
                raise StoreError(f"{table.name}: no row {row_id} in {self.url}")

    # --- unit and instruments --------------------------------------------------------------------
    def set_unit(
        self,
        run_id: int,
        serial: str | None = None,
        *,
        model: str | None = None,
        part_number: str | None = None,
        firmware: str | None = None,
        vin: str | None = None,
    ) -> None:
        """The unit under test of a run; fields given as None keep what is stored."""
        given = {
            k: v
            for k, v in {
                "serial": serial,
                "model": model,
                "part_number": part_number,
                "firmware": firmware,
                "vin": vin,
            }.items()
            if v is not None
        }
        units = schema.units
        with self.engine.begin() as conn:
            exists = conn.execute(select(units.c.id).where(units.c.run_id == run_id)).first()
            if exists is None:
                conn.execute(units.insert().values(run_id=run_id, **given))
            elif given:
                conn.execute(units.update().where(units.c.run_id == run_id).values(**given))

    def add_instruments(self, run_id: int, instruments: Iterable[Mapping[str, Any]]) -> None:
        """Each: name, kind, driver, identity, serial, calibration_due (ISO date); in bench-file order."""
        table = schema.instruments
        with self.engine.begin() as conn:
            first = conn.execute(
                select(func.count()).select_from(table).where(table.c.run_id == run_id)
            ).scalar()
            rows = [
                {
                    "run_id": run_id,
                    "position": first + i,
                    "name": item["name"],
                    "kind": item.get("kind"),
                    "driver": item.get("driver"),
                    "identity": item.get("identity"),
                    "serial": item.get("serial"),
                    "calibration_due": _date_text(item.get("calibration_due")),
                }
                for i, item in enumerate(instruments)
            ]
            if rows:
                conn.execute(table.insert(), rows)

    def set_instrument_identity(self, run_id: int, name: str, identity: str) -> None:
        table = schema.instruments
        with self.engine.begin() as conn:
            conn.execute(
                table.update()
                .where(table.c.run_id == run_id, table.c.name == name, table.c.identity.is_(None))
                .values(identity=identity)
            )

    # --- tests, measurements, attachments --------------------------------------------------------
    def start_test(
        self, run_id: int, node_id: str, *, scenario: str | None = None, worker: str | None = None
    ) -> int:
        """A new attempt of ``node_id`` in the run (a rerun is attempt 2, the first one kept)."""
        tests = schema.tests
        with self.engine.begin() as conn:
            before = conn.execute(
                select(func.count())
                .select_from(tests)
                .where(tests.c.run_id == run_id, tests.c.node_id == node_id)
            ).scalar()
            return int(
                conn.execute(
                    tests.insert().values(
                        run_id=run_id,
                        node_id=node_id,
                        scenario=scenario,
                        attempt=before + 1,
                        worker=worker,
                        started=now(),
                    )
                ).inserted_primary_key[0]
            )

    def add_measurement(
        self,
        test_id: int,
        *,
        name: str,
        value: float,
        unit: str | None,
        low: float | None,
        high: float | None,
        marginal: float | None,
        verdict: str,
        clause: str | None,
        source: str | None,
        taken: str | None = None,
    ) -> int:
        """One measurement, committed before this returns."""
        if verdict not in VERDICTS:
            raise StoreError(f"measurement {name}: verdict {verdict!r}, one of {', '.join(VERDICTS)}")
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    schema.measurements.insert().values(
                        test_id=test_id,
                        name=name,
                        value=None if value != value else value,  # NaN: stored as NULL
                        unit=unit,
                        low=low,
                        high=high,
                        marginal=marginal,
                        verdict=verdict,
                        clause=clause,
                        source=source,
                        taken=taken or now(),
                    )
                ).inserted_primary_key[0]
            )

    def end_test(self, test_id: int, outcome: str, duration_s: float) -> None:
        self._update(schema.tests, test_id, outcome=outcome, duration_s=duration_s)

    def add_attachment(
        self, run_id: int, path: str | Path, *, test_id: int | None = None, sha256: str | None = None
    ) -> None:
        """A file kept with the run, by path and SHA-256 (of the file now, unless given)."""
        digest = sha256 or sha256_file(path)
        with self.engine.begin() as conn:
            conn.execute(
                schema.attachments.insert().values(
                    run_id=run_id, test_id=test_id, path=str(path), sha256=digest
                )
            )

    def add_certificate(self, run_id: int, path: str | Path) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                schema.certificates.insert().values(run_id=run_id, path=str(path), sha256=sha256_file(path))
            )

    # --- reading ---------------------------------------------------------------------------------
    def run_record(self, run_id: int) -> dict[str, Any]:
        """The run as the plain dict a certificate is rendered from and its hash is taken of."""
        runs, units, inst, tests, meas, att = (
            schema.runs,
            schema.units,
            schema.instruments,
            schema.tests,
            schema.measurements,
            schema.attachments,
        )
        with self.engine.connect() as conn:
            run = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
            if run is None:
                raise StoreError(f"no run {run_id} in {self.url}")
            unit = conn.execute(select(units).where(units.c.run_id == run_id)).mappings().first()
            instruments = conn.execute(
                select(inst).where(inst.c.run_id == run_id).order_by(inst.c.position, inst.c.id)
            ).mappings()
            test_rows = (
                conn.execute(
                    select(tests).where(tests.c.run_id == run_id).order_by(tests.c.started, tests.c.id)
                )
                .mappings()
                .all()
            )
            by_test: dict[int, list[dict[str, Any]]] = {t["id"]: [] for t in test_rows}
            for m in conn.execute(
                select(meas)
                .join(tests, tests.c.id == meas.c.test_id)
                .where(tests.c.run_id == run_id)
                .order_by(meas.c.taken, meas.c.id)
            ).mappings():
                by_test[m["test_id"]].append(
                    {
                        "name": m["name"],
                        "value": "nan" if m["value"] is None else finite_or_text(m["value"]),
                        "unit": m["unit"],
                        "low": finite_or_text(m["low"]),
                        "high": finite_or_text(m["high"]),
                        "marginal": finite_or_text(m["marginal"]),
                        "verdict": m["verdict"],
                        "clause": m["clause"],
                        "source": m["source"],
                        "taken": m["taken"],
                    }
                )
            attachments = conn.execute(
                select(att.c.path, att.c.sha256).where(att.c.run_id == run_id).order_by(att.c.id)
            ).all()
        return {
            "run": {
                "id": run["id"],
                "kind": run["kind"],
                "attempt": run["attempt"],
                "bench_file": run["bench_file"],
                "bench_sha256": run["bench_sha256"],
                "operator": run["operator"],
                "host": run["host"],
                "started": run["started"],
                "ended": run["ended"],
                "revision": run["revision"],
                "specs_sha256": run["specs_sha256"],
                "outcome": run["outcome"],
                "complete": bool(run["complete"]),
                "unit_profile": run["unit_profile"],
                "seed": run["seed"],
            },
            "unit": {
                "serial": unit["serial"] if unit else run["serial"],
                "model": unit["model"] if unit else None,
                "part_number": unit["part_number"] if unit else None,
                "firmware": unit["firmware"] if unit else None,
                "vin": unit["vin"] if unit else None,
            },
            "instruments": [
                {k: i[k] for k in ("name", "kind", "driver", "identity", "serial", "calibration_due")}
                for i in instruments
            ],
            "tests": [
                {
                    "node_id": t["node_id"],
                    "scenario": t["scenario"],
                    "outcome": t["outcome"],
                    "attempt": t["attempt"],
                    "duration_s": finite_or_text(t["duration_s"]),
                    "measurements": by_test[t["id"]],
                }
                for t in test_rows
            ],
            "attachments": [{"path": a.path, "sha256": a.sha256} for a in attachments],
        }

    def test_evidence(self, run_id: int) -> dict[tuple[str, int], dict[str, Any]]:
        """Per test attempt of the run, keyed (node id, attempt): when it started and the files kept
        with it (path, SHA-256), for a report rendered from the store."""
        tests, att = schema.tests, schema.attachments
        with self.engine.connect() as conn:
            found = {
                t.id: {"key": (t.node_id, t.attempt), "started": t.started, "attachments": []}
                for t in conn.execute(
                    select(tests.c.id, tests.c.node_id, tests.c.attempt, tests.c.started).where(
                        tests.c.run_id == run_id
                    )
                )
            }
            for a in conn.execute(
                select(att.c.test_id, att.c.path, att.c.sha256)
                .where(att.c.run_id == run_id, att.c.test_id.is_not(None))
                .order_by(att.c.id)
            ):
                found[a.test_id]["attachments"].append({"path": a.path, "sha256": a.sha256})
        return {entry.pop("key"): entry for entry in found.values()}

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest runs first: id, kind, serial, attempt, started, ended, outcome, complete,
        operator, bench file, tests and failed measurements."""
        runs, units, tests, meas = schema.runs, schema.units, schema.tests, schema.measurements
        n_tests = select(func.count()).select_from(tests).where(tests.c.run_id == runs.c.id).scalar_subquery()
        n_failed = (
            select(func.count())
            .select_from(meas.join(tests, tests.c.id == meas.c.test_id))
            .where(tests.c.run_id == runs.c.id, meas.c.verdict == "fail")
            .scalar_subquery()
        )
        query = (
            select(
                runs.c.id,
                runs.c.kind,
                func.coalesce(units.c.serial, runs.c.serial).label("serial"),
                runs.c.attempt,
                runs.c.started,
                runs.c.ended,
                runs.c.outcome,
                runs.c.complete,
                runs.c.operator,
                runs.c.bench_file,
                n_tests.label("tests"),
                n_failed.label("failed_measurements"),
            )
            .select_from(runs.outerjoin(units, units.c.run_id == runs.c.id))
            .order_by(runs.c.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [{**r, "complete": bool(r["complete"])} for r in conn.execute(query).mappings()]

    def units(self) -> list[dict[str, Any]]:
        """Each serial ever tested: model, runs, certification attempts, the newest run and outcome."""
        latest: dict[str, dict[str, Any]] = {}
        for run in reversed(self.runs()):
            serial = run["serial"]
            if not serial:
                continue
            entry = latest.setdefault(
                serial, {"serial": serial, "runs": 0, "attempts": 0, "last_run": None, "last_outcome": None}
            )
            entry["runs"] += 1
            entry["attempts"] += run["kind"] == "certification"
            entry["last_run"], entry["last_outcome"] = run["id"], run["outcome"]
        units = schema.units
        with self.engine.connect() as conn:
            models = dict(
                conn.execute(select(units.c.serial, units.c.model).where(units.c.model.is_not(None))).all()
            )
        return [{**e, "model": models.get(s)} for s, e in sorted(latest.items())]

    def unit_history(self, serial: str) -> list[dict[str, Any]]:
        """Every run of ``serial``, oldest first: kind, attempt, outcome, failed measurements and
        certificates."""
        tests, meas, certs = schema.tests, schema.measurements, schema.certificates
        history = [r for r in reversed(self.runs()) if r["serial"] == serial]
        with self.engine.connect() as conn:
            for run in history:
                run["failed"] = [
                    {
                        "test": f.node_id,
                        "name": f.name,
                        "value": "nan" if f.value is None else finite_or_text(f.value),
                        "unit": f.unit,
                    }
                    for f in conn.execute(
                        select(tests.c.node_id, meas.c.name, meas.c.value, meas.c.unit)
                        .join(tests, tests.c.id == meas.c.test_id)
                        .where(tests.c.run_id == run["id"], meas.c.verdict == "fail")
                        .order_by(meas.c.taken, meas.c.id)
                    )
                ]
                run["certificates"] = list(
                    conn.execute(
                        select(certs.c.path).where(certs.c.run_id == run["id"]).order_by(certs.c.id)
                    ).scalars()
                )
        return history


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)
