"""A running matching's stage and progress, so any replica can say how far it has got.

Revision ID: 0005_12a
Revises: 0004i
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_12a"
down_revision: str | None = "0004i"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matching_runs") as batch:
        batch.add_column(sa.Column("stage", sa.String(40), nullable=True))
        batch.add_column(sa.Column("progress_done", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("progress_total", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matching_runs") as batch:
        batch.drop_column("progress_total")
        batch.drop_column("progress_done")
        batch.drop_column("stage")
