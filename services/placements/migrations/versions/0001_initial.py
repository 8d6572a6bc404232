"""Schools and students read model, employers and placements, with the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.messaging.tables import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "schools",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("postcode_district", sa.String(8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("year_group", sa.SmallInteger(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("disadvantaged", sa.Boolean(), nullable=False),
        sa.Column("sen", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_students_school_id", "students", ["school_id"])
    op.create_table(
        "employers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("postcode_district", sa.String(8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("health_safety_expires", sa.Date(), nullable=True),
        sa.Column("insurance_expires", sa.Date(), nullable=True),
    )
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("employer_id", sa.String(36), sa.ForeignKey("employers.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(60), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("minimum_age", sa.SmallInteger(), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
    )
    op.create_index("ix_placements_employer_id", "placements", ["employer_id"])


def downgrade() -> None:
    op.drop_table("placements")
    op.drop_table("employers")
    op.drop_table("students")
    op.drop_table("schools")
    drop_messaging_tables(op)
