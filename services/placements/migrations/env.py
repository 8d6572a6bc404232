"""Alembic environment for the placements service."""

from services.placements.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(metadata)
