"""The outbox and inbox tables, present in every service's own database.

Each service's Alembic environment includes `metadata` from here beside its own tables, and
its first migration creates both with `create_messaging_tables`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

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
    sa.Index(
        "ix_outbox_unpublished",
        "seq",
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    ),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=False),
)


def create_messaging_tables(op: Any) -> None:
    """Called from a service's first migration (`op` is alembic.op)."""
    bind = op.get_bind()
    metadata.create_all(bind, tables=[outbox, inbox])


def drop_messaging_tables(op: Any) -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[inbox, outbox])
