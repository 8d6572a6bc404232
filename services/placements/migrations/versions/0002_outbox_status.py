"""The outbox's delivery state: status, attempts, the last error, backoff; retention indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

from shared.messaging.tables import add_outbox_status, drop_outbox_status

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_status(op)


def downgrade() -> None:
    drop_outbox_status(op)
