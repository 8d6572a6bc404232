"""Revisions: on the copies of schools and students, tombstones for erased students, and
counters for what placements announces.

Existing copies get revision 0, the revision of every event sent before events carried one,
so the first revisioned event from booking updates them. Existing employers start at 1.

Revision ID: 0002b
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0002b"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STARTING_AT = {"schools": "0", "students": "0", "employers": "1"}


def upgrade() -> None:
    for table, first in STARTING_AT.items():
        op.add_column(
            table, sa.Column("revision", sa.Integer(), nullable=False, server_default=first)
        )
    op.create_table(
        "erased_students",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "allocation_revisions",
        sa.Column(
            "round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), primary_key=True
        ),
        sa.Column("holder", sa.String(10), primary_key=True),
        sa.Column("holder_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("allocation_revisions")
    op.drop_table("erased_students")
    for table in STARTING_AT:
        op.drop_column(table, "revision")
