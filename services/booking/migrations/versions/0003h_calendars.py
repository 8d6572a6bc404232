"""Calendars: a secret feed per PA, each PA's imported calendar, and the clashes alerted.

The imported busy time lives in `adviser_busy`. On PostgreSQL one source's intervals for one
adviser may not overlap (the import stores them merged), and the exclusion constraint's GiST
index on the time range is what keeps the overlap read availability makes bounded.

Revision ID: 0003h
Revises: 0002b
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0003h"
down_revision: str | None = "0002b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("adviser_id", sa.String(36), primary_key=True),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_fetched_at", UtcDateTime(), nullable=True),
        sa.Column("fetches", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "calendar_imports",
        sa.Column("adviser_id", sa.String(36), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(200), nullable=True),
        sa.Column("last_modified", sa.String(64), nullable=True),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_fetched_at", UtcDateTime(), nullable=True),
        sa.Column("last_result", sa.String(20), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("last_good_at", UtcDateTime(), nullable=True),
        sa.Column("busy_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_calendar_imports_due", "calendar_imports", ["due_at"])
    op.create_table(
        "calendar_clashes",
        sa.Column("appointment_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("adviser_id", sa.String(36), nullable=False),
        sa.Column("detected_at", UtcDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE adviser_busy ADD CONSTRAINT adviser_busy_no_overlap "
            "EXCLUDE USING gist (adviser_id WITH =, source WITH =, "
            "tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE adviser_busy DROP CONSTRAINT adviser_busy_no_overlap")
    op.drop_table("calendar_clashes")
    op.drop_index("ix_calendar_imports_due", table_name="calendar_imports")
    op.drop_table("calendar_imports")
    op.drop_table("calendar_feeds")
