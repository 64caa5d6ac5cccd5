"""The initial result store: runs, units, instruments, tests, measurements, attachments, certificates.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("serial", sa.String(64)),
        sa.Column("attempt", sa.Integer),
        sa.Column("bench_file", sa.Text),
        sa.Column("bench_sha256", sa.String(64)),
        sa.Column("operator", sa.Text),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("process_started", sa.String(32)),
        sa.Column("started", sa.String(40), nullable=False),
        sa.Column("ended", sa.String(40)),
        sa.Column("revision", sa.String(64)),
        sa.Column("specs_sha256", sa.String(64)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("unit_profile", sa.Text),
        sa.Column("seed", sa.Integer),
        sa.UniqueConstraint("kind", "serial", "attempt", name="uq_runs_attempt"),
    )
    op.create_index("ix_runs_serial", "runs", ["serial"])
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, unique=True),
        sa.Column("serial", sa.String(64)),
        sa.Column("model", sa.String(64)),
        sa.Column("part_number", sa.String(64)),
        sa.Column("firmware", sa.String(64)),
        sa.Column("vin", sa.String(32)),
    )
    op.create_index("ix_units_serial", "units", ["serial"])
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32)),
        sa.Column("driver", sa.String(64)),
        sa.Column("identity", sa.Text),
        sa.Column("serial", sa.String(64)),
        sa.Column("calibration_due", sa.String(10)),
        sa.UniqueConstraint("run_id", "name", name="uq_instruments_name"),
    )
    op.create_table(
        "tests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("node_id", sa.Text, nullable=False),
        sa.Column("scenario", sa.String(32)),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(16)),
        sa.Column("started", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("duration_s", sa.Float),
    )
    op.create_index("ix_tests_run", "tests", ["run_id"])
    op.create_table(
        "measurements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("test_id", sa.Integer, sa.ForeignKey("tests.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("unit", sa.String(32)),
        sa.Column("low", sa.Float),
        sa.Column("high", sa.Float),
        sa.Column("marginal", sa.Float),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("clause", sa.Text),
        sa.Column("source", sa.String(1)),
        sa.Column("taken", sa.String(40), nullable=False),
    )
    op.create_index("ix_measurements_test", "measurements", ["test_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("test_id", sa.Integer, sa.ForeignKey("tests.id")),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("certificates", "attachments", "measurements", "tests", "instruments", "units", "runs"):
        op.drop_table(table)
