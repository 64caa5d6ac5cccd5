"""The result store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are ISO 8601 text in UTC (``2026-12-02T06:31:02.123+00:00``): they sort as text, read back
byte for byte on both databases, and enter the record's hash exactly as stored. A measured value
that is not a number is stored as NULL (a measurement always has a value); infinite limits (a
one-sided spec) are stored as they are.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    # the serial named when the run starts (a certification's), which its attempt counts against
    Column("serial", String(64)),
    Column("attempt", Integer),
    Column("bench_file", Text),
    Column("bench_sha256", String(64)),
    Column("operator", Text),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    # when the process started (Linux: /proc/<pid>/stat), so a reused pid is not taken for the run's
    Column("process_started", String(32)),
    Column("started", String(40), nullable=False),
    Column("ended", String(40)),
    Column("revision", String(64)),
    Column("specs_sha256", String(64)),
    Column("outcome", String(16)),
    Column("complete", Boolean, nullable=False, default=False),
    Column("unit_profile", Text),
    Column("seed", Integer),
    UniqueConstraint("kind", "serial", "attempt", name="uq_runs_attempt"),
)
Index("ix_runs_serial", runs.c.serial)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False, unique=True),
    Column("serial", String(64)),
    Column("model", String(64)),
    Column("part_number", String(64)),
    Column("firmware", String(64)),
    Column("vin", String(32)),
)
Index("ix_units_serial", units.c.serial)

instruments = Table(
    "instruments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(64), nullable=False),
    Column("kind", String(32)),
    Column("driver", String(64)),
    Column("identity", Text),
    Column("serial", String(64)),
    Column("calibration_due", String(10)),
    UniqueConstraint("run_id", "name", name="uq_instruments_name"),
)

tests = Table(
    "tests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("node_id", Text, nullable=False),
    Column("scenario", String(32)),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(16)),
    Column("started", String(40), nullable=False),
    Column("outcome", String(16)),
    Column("duration_s", Float),
)
Index("ix_tests_run", tests.c.run_id)

measurements = Table(
    "measurements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("test_id", Integer, ForeignKey("tests.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Float),
    Column("unit", String(32)),
    Column("low", Float),
    Column("high", Float),
    Column("marginal", Float),
    Column("verdict", String(16), nullable=False),
    Column("clause", Text),
    Column("source", String(1)),
    Column("taken", String(40), nullable=False),
)
Index("ix_measurements_test", measurements.c.test_id)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("test_id", Integer, ForeignKey("tests.id")),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
)

# a run's certificates are kept beside its record, not in it: a certificate states the record's hash
certificates = Table(
    "certificates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
)
