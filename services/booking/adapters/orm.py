"""Booking's tables. Times are stored in UTC; each school keeps its IANA zone beside them."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
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

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
)

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="Europe/London"),
    sa.Column("day_starts", sa.Time(), nullable=False),
    sa.Column("day_ends", sa.Time(), nullable=False),
)

students = sa.Table(
    "students",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("year_group", sa.SmallInteger(), nullable=False),
)

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
    sa.Column(
        "student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False, index=True
    ),
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
    sa.Index("ix_appointments_adviser_start", "adviser_id", "starts_at"),
)
