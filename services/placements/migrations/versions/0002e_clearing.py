"""Clearing and home districts: the opt-in, the round's default, cleared places, where students live.

Revision ID: 0002e
Revises: 0002b
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002e"
down_revision: str | None = "0002b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("allocation_rounds") as table:
        table.add_column(
            sa.Column("clearing_default", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("preferences") as table:
        table.add_column(sa.Column("clearing", sa.Boolean(), nullable=True))
    for name in ("run_assignments", "allocations"):
        with op.batch_alter_table(name) as table:
            table.add_column(
                sa.Column("cleared", sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("students") as table:
        table.add_column(sa.Column("home_district", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("students") as table:
        table.drop_column("home_district")
    for name in ("allocations", "run_assignments"):
        with op.batch_alter_table(name) as table:
            table.drop_column("cleared")
    with op.batch_alter_table("preferences") as table:
        table.drop_column("clearing")
    with op.batch_alter_table("allocation_rounds") as table:
        table.drop_column("clearing_default")
