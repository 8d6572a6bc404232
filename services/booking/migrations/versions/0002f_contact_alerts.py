"""Contact routes notifications reported undeliverable.

Revision ID: 0002f
Revises: 0003h
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0002f"
down_revision: str | None = "0003h"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_alerts",
        sa.Column("owner_id", sa.String(64), primary_key=True),
        sa.Column("route", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("owner_kind", sa.String(20), nullable=False),
        sa.Column("school_id", sa.String(36), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_contact_alerts_school_id", "contact_alerts", ["school_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_alerts_school_id", table_name="contact_alerts")
    op.drop_table("contact_alerts")
