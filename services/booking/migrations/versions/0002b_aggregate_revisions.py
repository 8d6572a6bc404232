"""A revision on every record booking announces on `directory.events`.

Existing rows start at 1: every event already sent went out without a revision (read as 0),
so the first change after this migration is announced as 2, newer than any copy made before.

Revision ID: 0002b
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002b"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("providers", "consortia", "schools", "advisers", "students", "accounts")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("revision", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "revision")
