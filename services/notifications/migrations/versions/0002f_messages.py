"""Contacts read model, message rows, SMS opt-outs and the audit of message-log reads.

Revision ID: 0002f
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0002f"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_owners",
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("school_id", sa.String(36), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=True),
        sa.Column("parent_copy", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "contacts",
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
    )
    op.create_index("ix_contacts_phone", "contacts", ["phone"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("opted_out_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("route", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.String(36), nullable=True),
        sa.Column("student_id", sa.String(36), nullable=True),
        sa.Column("appointment_id", sa.String(36), nullable=True),
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
    )
    op.create_index("ix_messages_school_id", "messages", ["school_id"])
    op.create_index("ix_messages_student_id", "messages", ["student_id"])
    op.create_index("ix_messages_appointment_id", "messages", ["appointment_id"])
    op.create_index("ix_messages_due", "messages", ["status", "due_at"])
    op.create_table(
        "message_reads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("read_at", UtcDateTime(), nullable=False),
        sa.Column("reader_id", sa.String(64), nullable=False),
        sa.Column("reader_role", sa.String(20), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=True),
        sa.Column("student_id", sa.String(36), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("message_reads")
    op.drop_table("messages")
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_contacts_phone", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("contact_owners")
