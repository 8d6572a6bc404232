"""Placements' tables: its read model of schools and students, employers and placements."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("postcode_district", sa.String(8), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
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
)

employers = sa.Table(
    "employers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("contact_email", sa.String(320), nullable=True),
    sa.Column("postcode_district", sa.String(8), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("health_safety_expires", sa.Date(), nullable=True),
    sa.Column("insurance_expires", sa.Date(), nullable=True),
)

placements = sa.Table(
    "placements",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "employer_id", sa.String(36), sa.ForeignKey("employers.id"), nullable=False, index=True
    ),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("sector", sa.String(60), nullable=False),
    sa.Column("capacity", sa.JSON(), nullable=False),
    sa.Column("minimum_age", sa.SmallInteger(), nullable=False),
    sa.Column("accessibility", sa.JSON(), nullable=False),
)
