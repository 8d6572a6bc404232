"""Alembic environment for the booking service."""

from services.booking.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(metadata)
