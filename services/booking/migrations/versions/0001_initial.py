"""Accounts, the directory, Partnership Agreements, appointments, waitlist and drop-in queue.

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

TABLES = (
    "dropin_queue", "dropin_sessions", "waitlist_offers", "waitlist_entries", "appointments",
    "adviser_busy", "agreements", "contacts", "students", "advisers", "rooms", "school_periods",
    "schools", "consortia", "providers", "sessions", "accounts",
)


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table('accounts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('school_ids', sa.JSON(), nullable=False),
    sa.Column('ebp_id', sa.String(length=36), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('password_changed_at', UtcDateTime(), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('adviser_busy',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('adviser_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', UtcDateTime(), nullable=False),
    sa.Column('ends_at', UtcDateTime(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_adviser_busy_adviser_start', 'adviser_busy', ['adviser_id', 'starts_at'], unique=False)
    op.create_table('providers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('advisers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('consortia',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('expires_at', UtcDateTime(), nullable=False),
    sa.Column('revoked_at', UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_sessions_account_id'), 'sessions', ['account_id'], unique=False)
    op.create_table('schools',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('consortium_id', sa.String(length=36), nullable=True),
    sa.Column('time_zone', sa.String(length=64), server_default='Europe/London', nullable=False),
    sa.Column('day_starts', sa.Time(), nullable=False),
    sa.Column('day_ends', sa.Time(), nullable=False),
    sa.Column('postcode_district', sa.String(length=8), nullable=True),
    sa.Column('lead_adviser_id', sa.String(length=36), nullable=True),
    sa.Column('coordinator_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortia.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('agreements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('academic_year', sa.String(length=7), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('confidential_room', sa.String(length=200), nullable=False),
    sa.Column('session_types', sa.JSON(), nullable=False),
    sa.Column('minimum_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('priority_share', sa.Float(), nullable=False),
    sa.Column('priority_release_hours', sa.Integer(), nullable=False),
    sa.Column('adviser_requests_allowed', sa.Boolean(), nullable=False),
    sa.Column('promises', sa.JSON(), nullable=False),
    sa.Column('attendances', sa.JSON(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id', 'academic_year', name='uq_agreements_school_year')
    )
    op.create_table('dropin_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('adviser_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', UtcDateTime(), nullable=False),
    sa.Column('ends_at', UtcDateTime(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rooms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('confidential', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rooms_school_id'), 'rooms', ['school_id'], unique=False)
    op.create_table('school_periods',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=True),
    sa.Column('ends', sa.Time(), nullable=True),
    sa.CheckConstraint('last_day >= first_day', name='school_period_in_order'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_school_periods_school_id'), 'school_periods', ['school_id'], unique=False)
    op.create_table('students',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('year_group', sa.SmallInteger(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('priority_flags', sa.JSON(), server_default='[]', nullable=False),
    sa.Column('disadvantaged', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id', 'reference', name='uq_students_school_reference')
    )
    op.create_index(op.f('ix_students_school_id'), 'students', ['school_id'], unique=False)
    op.create_table('appointments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('adviser_id', sa.String(length=36), nullable=False),
    sa.Column('session_type', sa.String(length=30), nullable=False),
    sa.Column('starts_at', UtcDateTime(), nullable=False),
    sa.Column('ends_at', UtcDateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('place_key', sa.String(length=120), nullable=False),
    sa.Column('seat', sa.Integer(), server_default='1', nullable=False),
    sa.Column('capacity', sa.Integer(), server_default='1', nullable=False),
    sa.Column('booked_by', sa.String(length=20), nullable=False),
    sa.Column('referral_reason', sa.Text(), nullable=True),
    sa.Column('referral_urgency', sa.String(length=10), nullable=True),
    sa.Column('required_kind', sa.String(length=30), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=20), nullable=True),
    sa.Column('attendance_recorded_at', UtcDateTime(), nullable=True),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name='appointment_has_duration'),
    sa.CheckConstraint('seat >= 1 AND seat <= capacity', name='appointment_seat_within_capacity'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appointments_adviser_start', 'appointments', ['adviser_id', 'starts_at'], unique=False)
    op.create_index('ix_appointments_school_start', 'appointments', ['school_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_appointments_student_id'), 'appointments', ['student_id'], unique=False)
    op.create_index('uq_appointments_active_seat', 'appointments', ['place_key', 'seat'], unique=True, sqlite_where=sa.text("status = 'confirmed'"), postgresql_where=sa.text("status = 'confirmed'"))
    op.create_table('contacts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('sms_consent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('email_consent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('preferred', sa.JSON(), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('student_id', 'role', name='uq_contacts_student_role')
    )
    op.create_index(op.f('ix_contacts_student_id'), 'contacts', ['student_id'], unique=False)
    op.create_table('dropin_queue',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('joined_at', UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('adviser_id', sa.String(length=36), nullable=True),
    sa.Column('called_at', UtcDateTime(), nullable=True),
    sa.Column('finished_at', UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['dropin_sessions.id'], ),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'position', name='uq_dropin_queue_position')
    )
    op.create_table('waitlist_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('session_type', sa.String(length=30), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('joined_at', UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_waitlist_school_type', 'waitlist_entries', ['school_id', 'session_type', 'status'], unique=False)
    op.create_table('waitlist_offers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('entry_id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('student_id', sa.String(length=36), nullable=False),
    sa.Column('adviser_id', sa.String(length=36), nullable=False),
    sa.Column('session_type', sa.String(length=30), nullable=False),
    sa.Column('starts_at', UtcDateTime(), nullable=False),
    sa.Column('ends_at', UtcDateTime(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('offered_to', sa.JSON(), nullable=False),
    sa.Column('offered_at', UtcDateTime(), nullable=False),
    sa.Column('expires_at', UtcDateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entries.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_waitlist_offers_due', 'waitlist_offers', ['status', 'expires_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses a second active appointment overlapping in time for the
        # same adviser (unless both are places in one shared session: same place_key) or for
        # the same student; SQLite relies on serialised write transactions.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_adviser_no_overlap "
            "EXCLUDE USING gist (adviser_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&, "
            "place_key WITH <>) WHERE (status = 'confirmed')"
        )
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_student_no_overlap "
            "EXCLUDE USING gist (student_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status = 'confirmed')"
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    drop_messaging_tables(op)
