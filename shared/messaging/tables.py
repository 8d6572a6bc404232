"""The outbox and inbox tables, present in every service's own database.

Each service's Alembic environment includes `metadata` from here beside its own tables. Its
first migration creates the tables as they first were (`create_messaging_tables`) and its
second adds the outbox's delivery state (`add_outbox_status`); both are frozen here, apart
from the live table definitions, so later changes to the tables cannot alter old migrations.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

PENDING, PUBLISHED, FAILED = "pending", "published", "failed"
UNPUBLISHED = "published_at IS NULL"
# Unpublished rows that hold back the later rows of their key: parked, backing off, or leased.
HELD = f"published_at IS NULL AND (status = '{FAILED}' OR next_attempt_at IS NOT NULL)"

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    # pending -> published, or pending -> failed (parked) -> pending when an operator retries.
    sa.Column("status", sa.String(10), nullable=False, server_default=PENDING),
    # The error's class only: a message could quote the payload.
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("failed_at", UtcDateTime(), nullable=True),
    # Not before this instant: a row's own backoff, or a relay's claim while it publishes.
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Index(
        "ix_outbox_unpublished",
        "seq",
        sqlite_where=sa.text(UNPUBLISHED),
        postgresql_where=sa.text(UNPUBLISHED),
    ),
    sa.Index(
        "ix_outbox_held",
        "key",
        "seq",
        sqlite_where=sa.text(HELD),
        postgresql_where=sa.text(HELD),
    ),
    sa.Index("ix_outbox_published_at", "published_at"),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_inbox_processed_at", "processed_at"),
)

# Sessions ended early, from `identity.session.revoked`: kept until their tokens expire.
revoked_sessions = sa.Table(
    "revoked_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index("ix_revoked_sessions_expires_at", "expires_at"),
)


def create_messaging_tables(op: Any) -> None:
    """Called from a service's first migration (`op` is alembic.op): the tables as of 0001."""
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        sqlite_where=sa.text(UNPUBLISHED),
        postgresql_where=sa.text(UNPUBLISHED),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
    )


def drop_messaging_tables(op: Any) -> None:
    op.drop_table("inbox")
    op.drop_table("outbox")


def add_outbox_status(op: Any) -> None:
    """Called from a service's migration 0002: delivery state per row, and retention indexes.

    Rows published before the migration are marked published; the rest stay pending.
    """
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("status", sa.String(10), nullable=False, server_default=PENDING))
        batch.add_column(sa.Column("last_error", sa.String(200), nullable=True))
        batch.add_column(sa.Column("failed_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", UtcDateTime(), nullable=True))
    op.execute(f"UPDATE outbox SET status = '{PUBLISHED}' WHERE published_at IS NOT NULL")
    op.create_index(
        "ix_outbox_held",
        "outbox",
        ["key", "seq"],
        sqlite_where=sa.text(HELD),
        postgresql_where=sa.text(HELD),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def drop_outbox_status(op: Any) -> None:
    """The downgrade of `add_outbox_status`: parked rows become plain unpublished rows."""
    op.drop_index("ix_inbox_processed_at", table_name="inbox")
    op.drop_index("ix_outbox_published_at", table_name="outbox")
    op.drop_index("ix_outbox_held", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("next_attempt_at", "failed_at", "last_error", "status"):
            batch.drop_column(column)
