"""Notifications' tables: its read model of appointments, and the reminders it owes."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("school_id", sa.String(36), nullable=False, index=True),
    sa.Column("student_id", sa.String(36), nullable=False, index=True),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("appointment_id", sa.String(36), sa.ForeignKey("appointments.id"), nullable=False),
    sa.Column("appointment_revision", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_reminders_appointment", "appointment_id"),
    sa.Index("ix_reminders_due", "status", "due_at"),
)
