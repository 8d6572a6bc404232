"""Placements' tables.

Its read model of schools and students (from booking's directory events); employers and their
placements (owned by an EBP); allocation rounds with their schools, students' preferences,
self-found placements and pins; matching runs with their results; and the published
allocations. Weeks are stored as ISO week strings ("2027-W25"); instants as UTC.

Revisions (`shared/events/revision.py`): each copy keeps the revision of the event it was
last written from (0 for a copy made before events carried one), and an erased student leaves
a tombstone so a late upsert cannot bring them back. Placements' own announcements are
counted on the employer row and, per round, in `allocation_revisions`.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("postcode_district", sa.String(8), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
)

students = sa.Table(
    "students",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), nullable=False, index=True),
    sa.Column("year_group", sa.SmallInteger(), nullable=False),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("disadvantaged", sa.Boolean(), nullable=False),
    sa.Column("sen", sa.Boolean(), nullable=False),
    sa.Column("home_district", sa.String(8), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="0"),
)

# What is left of an erased student: the pseudonymous id booking gave them (no name, no date
# of birth, no school), the erasure's revision and when it happened. Events about the id
# after that are ignored for good, even if booking imports the same pupil again.
erased_students = sa.Table(
    "erased_students",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("erased_at", UtcDateTime(), nullable=False),
)

employers = sa.Table(
    "employers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("reference", sa.String(60), nullable=False, unique=True),
    sa.Column("ebp_id", sa.String(36), nullable=True, index=True),
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
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

placements = sa.Table(
    "placements",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("reference", sa.String(60), nullable=False, unique=True),
    sa.Column(
        "employer_id", sa.String(36), sa.ForeignKey("employers.id"), nullable=False, index=True
    ),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("sector", sa.String(60), nullable=False, index=True),
    sa.Column("capacity", sa.JSON(), nullable=False),
    sa.Column("minimum_age", sa.SmallInteger(), nullable=False),
    sa.Column("accessibility", sa.JSON(), nullable=False),
    sa.Column("self_found", sa.Boolean(), nullable=False, server_default=sa.false()),
)

allocation_rounds = sa.Table(
    "allocation_rounds",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ebp_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("year_group", sa.SmallInteger(), nullable=False),
    sa.Column("deadline", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(36), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("published_run_id", sa.String(36), nullable=True),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("clearing_default", sa.Boolean(), nullable=False, server_default=sa.false()),
)

round_schools = sa.Table(
    "round_schools",
    metadata,
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), primary_key=True),
    sa.Column("school_id", sa.String(36), primary_key=True),
    sa.Column("weeks", sa.JSON(), nullable=False),
)

preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), primary_key=True),
    sa.Column("student_id", sa.String(36), primary_key=True),
    sa.Column("choices", sa.JSON(), nullable=False),
    sa.Column("travel_limit_km", sa.Float(), nullable=False),
    sa.Column("access_needs", sa.JSON(), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("clearing", sa.Boolean(), nullable=True),
)

self_found_placements = sa.Table(
    "self_found_placements",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), nullable=False),
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

pins = sa.Table(
    "pins",
    metadata,
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), primary_key=True),
    sa.Column("student_id", sa.String(36), primary_key=True),
    sa.Column("placement_id", sa.String(36), sa.ForeignKey("placements.id"), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("source", sa.String(12), nullable=False),
    sa.Column("pinned_by", sa.String(36), nullable=False),
    sa.Column("pinned_at", UtcDateTime(), nullable=False),
)

matching_runs = sa.Table(
    "matching_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), nullable=False, index=True
    ),
    sa.Column("seed", sa.BigInteger(), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("requested_by", sa.String(36), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("report", sa.JSON(), nullable=True),
    sa.Column("school_quotas", sa.JSON(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # Where a running matching has got to: the engine's stage, and stages done of how many.
    sa.Column("stage", sa.String(40), nullable=True),
    sa.Column("progress_done", sa.SmallInteger(), nullable=True),
    sa.Column("progress_total", sa.SmallInteger(), nullable=True),
)

run_assignments = sa.Table(
    "run_assignments",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("matching_runs.id"), primary_key=True),
    sa.Column("student_id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), nullable=False),
    sa.Column("placement_id", sa.String(36), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("rank", sa.SmallInteger(), nullable=True),
    sa.Column("pinned", sa.Boolean(), nullable=False),
    sa.Column("cleared", sa.Boolean(), nullable=False, server_default=sa.false()),
)

run_unplaced = sa.Table(
    "run_unplaced",
    metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("matching_runs.id"), primary_key=True),
    sa.Column("student_id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
)

allocations = sa.Table(
    "allocations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), nullable=False),
    sa.Column("student_id", sa.String(36), nullable=False),
    sa.Column("school_id", sa.String(36), nullable=False),
    sa.Column("placement_id", sa.String(36), nullable=False),
    sa.Column("employer_id", sa.String(36), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("rank", sa.SmallInteger(), nullable=True),
    sa.Column("pinned", sa.Boolean(), nullable=False),
    sa.Column("cleared", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
    sa.Index("ix_allocations_round", "round_id", "status"),
    sa.Index(
        "uq_allocations_live_student",
        "round_id",
        "student_id",
        unique=True,
        sqlite_where=sa.text("status != 'withdrawn'"),
        postgresql_where=sa.text("status != 'withdrawn'"),
    ),
)

withdrawals = sa.Table(
    "withdrawals",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), nullable=False),
    sa.Column("student_id", sa.String(36), nullable=True),
    sa.Column("placement_id", sa.String(36), nullable=True),
    sa.Column("recorded_by", sa.String(36), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
)

# The revision of the latest event about each student's allocation (`holder` "student") and
# each employer's list (`holder` "employer") in a round; it runs on across a withdrawal and
# the re-match after it, since both are about the same student in the same round.
allocation_revisions = sa.Table(
    "allocation_revisions",
    metadata,
    sa.Column("round_id", sa.String(36), sa.ForeignKey("allocation_rounds.id"), primary_key=True),
    sa.Column("holder", sa.String(10), primary_key=True),
    sa.Column("holder_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer(), nullable=False),
)
