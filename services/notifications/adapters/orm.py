"""Notifications' tables: read models of appointments and contacts, and the messages it owes.

A message is a row, never a timer: unique per (source, kind, recipient, channel), so an
event delivered twice writes it once; the dispatcher claims it (status `sending` with a
lease), hands it to the provider and records the outcome.
"""

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

contact_owners = sa.Table(
    "contact_owners",
    metadata,
    sa.Column("owner_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),  # student, staff, adviser, employer
    sa.Column("school_id", sa.String(36), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    # What a student chose for themselves (the contact-preferences API).
    sa.Column("channel", sa.String(10), nullable=True),
    sa.Column("parent_copy", sa.Boolean(), nullable=False),
    sa.Column("opted_out", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("owner_id", sa.String(64), primary_key=True),
    sa.Column("route", sa.Integer(), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("sms_consent", sa.Boolean(), nullable=False),
    sa.Column("email_consent", sa.Boolean(), nullable=False),
    sa.Column("preferred", sa.String(40), nullable=False),
    sa.Column("sms_undeliverable", sa.String(30), nullable=True),
    sa.Column("email_undeliverable", sa.String(30), nullable=True),
    sa.Index("ix_contacts_phone", "phone"),
)

sms_opt_outs = sa.Table(
    "sms_opt_outs",
    metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
    sa.Column("opted_out_at", UtcDateTime(), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("recipient", sa.String(80), nullable=False),  # owner_id/route
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=True),
    sa.Column("route", sa.Integer(), nullable=True),
    sa.Column("school_id", sa.String(36), nullable=True, index=True),
    sa.Column("student_id", sa.String(36), nullable=True, index=True),
    sa.Column("appointment_id", sa.String(36), nullable=True, index=True),
    sa.Column("variant", sa.String(10), nullable=False),
    sa.Column("context", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("claim", sa.String(36), nullable=True),
    sa.Column("body", sa.Text(), nullable=True),
    sa.Column("provider_id", sa.String(64), nullable=True, unique=True),
    sa.Column("provider_status", sa.String(20), nullable=True),
    sa.Column("error", sa.String(60), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("handed_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("source", "kind", "recipient", "channel", name="uq_messages_identity"),
    sa.Index("ix_messages_due", "status", "due_at"),
)

message_reads = sa.Table(
    "message_reads",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("read_at", UtcDateTime(), nullable=False),
    sa.Column("reader_id", sa.String(64), nullable=False),
    sa.Column("reader_role", sa.String(20), nullable=False),
    sa.Column("appointment_id", sa.String(36), nullable=True),
    sa.Column("student_id", sa.String(36), nullable=True),
    sa.Column("rows", sa.Integer(), nullable=False),
)
