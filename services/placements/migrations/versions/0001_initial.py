"""Placements' first schema: read model, employers and placements, rounds, runs, allocations.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime
from shared.messaging.tables import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUND_FK = "allocation_rounds.id"


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
        sa.Column("reference", sa.String(60), nullable=False, unique=True),
        sa.Column("ebp_id", sa.String(36), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=True),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("contact_phone", sa.String(20), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("postcode", sa.String(10), nullable=True),
        sa.Column("postcode_district", sa.String(8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("health_safety_expires", sa.Date(), nullable=False),
        sa.Column("insurance_expires", sa.Date(), nullable=False),
    )
    op.create_index("ix_employers_ebp_id", "employers", ["ebp_id"])
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(60), nullable=False, unique=True),
        sa.Column("employer_id", sa.String(36), sa.ForeignKey("employers.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(60), nullable=False),
        sa.Column("capacity", sa.JSON(), nullable=False),
        sa.Column("minimum_age", sa.SmallInteger(), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("self_found", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_placements_employer_id", "placements", ["employer_id"])
    op.create_index("ix_placements_sector", "placements", ["sector"])
    op.create_table(
        "allocation_rounds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ebp_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("year_group", sa.SmallInteger(), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_run_id", sa.String(36), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_allocation_rounds_ebp_id", "allocation_rounds", ["ebp_id"])
    op.create_table(
        "round_schools",
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), primary_key=True),
        sa.Column("school_id", sa.String(36), primary_key=True),
        sa.Column("weeks", sa.JSON(), nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), primary_key=True),
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("travel_limit_km", sa.Float(), nullable=False),
        sa.Column("access_needs", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "self_found_placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), nullable=False),
        sa.Column("student_id", sa.String(36), nullable=False),
        sa.Column("employer_name", sa.String(200), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("sector", sa.String(60), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.UniqueConstraint("round_id", "student_id", name="uq_self_found_student"),
    )
    op.create_table(
        "pins",
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), primary_key=True),
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column(
            "placement_id", sa.String(36), sa.ForeignKey("placements.id"), nullable=False
        ),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("pinned_by", sa.String(36), nullable=False),
        sa.Column("pinned_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "matching_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("school_quotas", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_matching_runs_round_id", "matching_runs", ["round_id"])
    op.create_table(
        "run_assignments",
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("matching_runs.id"), primary_key=True
        ),
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("placement_id", sa.String(36), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "run_unplaced",
        sa.Column(
            "run_id", sa.String(36), sa.ForeignKey("matching_runs.id"), primary_key=True
        ),
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), nullable=False),
        sa.Column("student_id", sa.String(36), nullable=False),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("placement_id", sa.String(36), nullable=False),
        sa.Column("employer_id", sa.String(36), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("confirmed_at", UtcDateTime(), nullable=True),
        sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_allocations_round", "allocations", ["round_id", "status"])
    op.create_index(
        "uq_allocations_live_student",
        "allocations",
        ["round_id", "student_id"],
        unique=True,
        sqlite_where=sa.text("status != 'withdrawn'"),
        postgresql_where=sa.text("status != 'withdrawn'"),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("round_id", sa.String(36), sa.ForeignKey(ROUND_FK), nullable=False),
        sa.Column("student_id", sa.String(36), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("recorded_by", sa.String(36), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "withdrawals",
        "allocations",
        "run_unplaced",
        "run_assignments",
        "matching_runs",
        "pins",
        "self_found_placements",
        "preferences",
        "round_schools",
        "allocation_rounds",
        "placements",
        "employers",
        "students",
        "schools",
    ):
        op.drop_table(table)
    drop_messaging_tables(op)
