"""Accounts, sessions, directory basics and appointments, with the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

from shared.messaging.tables import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("school_ids", sa.JSON(), nullable=False),
        sa.Column("ebp_id", sa.String(36), nullable=True),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("password_changed_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_sessions_account_id", "sessions", ["account_id"])
    op.create_table(
        "schools",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Europe/London"),
        sa.Column("day_starts", sa.Time(), nullable=False),
        sa.Column("day_ends", sa.Time(), nullable=False),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("year_group", sa.SmallInteger(), nullable=False),
    )
    op.create_index("ix_students_school_id", "students", ["school_id"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False),
        sa.Column("adviser_id", sa.String(36), nullable=False),
        sa.Column("session_type", sa.String(30), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name="appointment_has_duration"),
    )
    op.create_index("ix_appointments_student_id", "appointments", ["student_id"])
    op.create_index("ix_appointments_adviser_start", "appointments", ["adviser_id", "starts_at"])
    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses a second active appointment overlapping in time for the
        # same adviser or the same student; SQLite relies on serialised write transactions.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_adviser_no_overlap "
            "EXCLUDE USING gist (adviser_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status = 'confirmed')"
        )
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_student_no_overlap "
            "EXCLUDE USING gist (student_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status = 'confirmed')"
        )


def downgrade() -> None:
    op.drop_table("appointments")
    op.drop_table("students")
    op.drop_table("schools")
    op.drop_table("sessions")
    op.drop_table("accounts")
    drop_messaging_tables(op)
