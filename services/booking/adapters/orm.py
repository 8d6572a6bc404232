"""Booking's tables. Times are stored in UTC; each school keeps its IANA zone beside them.

Wall-clock rules (the school day, an agreement's hours) are kept as local `Time` values and
only turned into instants by the domain, so they stay right across clock changes.

Each record announced on `directory.events` (providers, consortia, schools, advisers,
students, and staff in `accounts`) keeps a `revision`, raised with every change announced,
which its events carry so consumers never let an older event overwrite a newer copy.
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import UtcDateTime

metadata = sa.MetaData()

ACTIVE = sa.text("status = 'confirmed'")

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("school_ids", sa.JSON(), nullable=False),
    sa.Column("ebp_id", sa.String(36), nullable=True),
    sa.Column("person_id", sa.String(36), nullable=True),
    sa.Column("display_name", sa.String(200), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("password_changed_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("last_seen_at", UtcDateTime(), nullable=True),
)

providers = sa.Table(
    "providers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

consortia = sa.Table(
    "consortia",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("provider_id", sa.String(36), sa.ForeignKey("providers.id"), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

schools = sa.Table(
    "schools",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("consortium_id", sa.String(36), sa.ForeignKey("consortia.id"), nullable=True),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="Europe/London"),
    sa.Column("day_starts", sa.Time(), nullable=False),
    sa.Column("day_ends", sa.Time(), nullable=False),
    sa.Column("postcode_district", sa.String(8), nullable=True),
    sa.Column("lead_adviser_id", sa.String(36), nullable=True),
    sa.Column("coordinator_id", sa.String(36), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

# Terms, holidays, exam and blocked periods. A period with times is a part-day block
# (e.g. a mock exam morning) from `first_day starts` to `last_day ends`, in local time.
school_periods = sa.Table(
    "school_periods",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("first_day", sa.Date(), nullable=False),
    sa.Column("last_day", sa.Date(), nullable=False),
    sa.Column("starts", sa.Time(), nullable=True),
    sa.Column("ends", sa.Time(), nullable=True),
    sa.CheckConstraint("last_day >= first_day", name="school_period_in_order"),
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false()),
)

advisers = sa.Table(
    "advisers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider_id", sa.String(36), sa.ForeignKey("providers.id"), nullable=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("kinds", sa.JSON(), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
)

students = sa.Table(
    "students",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False, index=True),
    sa.Column("year_group", sa.SmallInteger(), nullable=False),
    sa.Column("reference", sa.String(40), nullable=True),
    sa.Column("display_name", sa.String(200), nullable=True),
    sa.Column("date_of_birth", sa.Date(), nullable=True),
    sa.Column("priority_flags", sa.JSON(), nullable=False, server_default="[]"),
    sa.Column("disadvantaged", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
    sa.UniqueConstraint("school_id", "reference", name="uq_students_school_reference"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False, index=True
    ),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("phone", sa.String(20), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("sms_consent", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("email_consent", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("preferred", sa.JSON(), nullable=False, server_default="[]"),
    sa.UniqueConstraint("student_id", "role", name="uq_contacts_student_role"),
)

agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("academic_year", sa.String(7), nullable=False),
    sa.Column("first_day", sa.Date(), nullable=False),
    sa.Column("last_day", sa.Date(), nullable=False),
    sa.Column("confidential_room", sa.String(200), nullable=False),
    sa.Column("session_types", sa.JSON(), nullable=False),
    sa.Column("minimum_notice_minutes", sa.Integer(), nullable=False),
    sa.Column("horizon_days", sa.Integer(), nullable=False),
    sa.Column("priority_share", sa.Float(), nullable=False),
    sa.Column("priority_release_hours", sa.Integer(), nullable=False),
    sa.Column("adviser_requests_allowed", sa.Boolean(), nullable=False),
    sa.Column("promises", sa.JSON(), nullable=False),
    sa.Column("attendances", sa.JSON(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("school_id", "academic_year", name="uq_agreements_school_year"),
)

# The hook for imported personal calendars: leave, training and meetings as busy time.
adviser_busy = sa.Table(
    "adviser_busy",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("adviser_id", sa.String(36), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Index("ix_adviser_busy_adviser_start", "adviser_id", "starts_at"),
)

# `place_key` and `seat` let the database guard shared sessions: places in one group session
# share a key (so the adviser exclusion constraint lets them overlap) and each takes a seat
# between 1 and the session's capacity, unique among active appointments.
appointments = sa.Table(
    "appointments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
    sa.Column(
        "student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False, index=True
    ),
    sa.Column("adviser_id", sa.String(36), nullable=False),
    sa.Column("session_type", sa.String(30), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("minutes", sa.Integer(), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("place_key", sa.String(120), nullable=False),
    sa.Column("seat", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("capacity", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("booked_by", sa.String(20), nullable=False),
    sa.Column("referral_reason", sa.Text(), nullable=True),
    sa.Column("referral_urgency", sa.String(10), nullable=True),
    sa.Column("required_kind", sa.String(30), nullable=True),
    sa.Column("cancel_reason", sa.Text(), nullable=True),
    sa.Column("cancelled_by", sa.String(20), nullable=True),
    sa.Column("attendance_recorded_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("ends_at > starts_at", name="appointment_has_duration"),
    sa.CheckConstraint("seat >= 1 AND seat <= capacity", name="appointment_seat_within_capacity"),
    sa.Index("ix_appointments_adviser_start", "adviser_id", "starts_at"),
    sa.Index("ix_appointments_school_start", "school_id", "starts_at"),
    sa.Index(
        "uq_appointments_active_seat",
        "place_key",
        "seat",
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    ),
)

waitlist_entries = sa.Table(
    "waitlist_entries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("session_type", sa.String(30), nullable=False),
    sa.Column("first_day", sa.Date(), nullable=True),
    sa.Column("last_day", sa.Date(), nullable=True),
    sa.Column("joined_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Index("ix_waitlist_school_type", "school_id", "session_type", "status"),
)

# An offer is the row the expiry sweep works from: `expires_at` is the truth, not a timer.
waitlist_offers = sa.Table(
    "waitlist_offers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("entry_id", sa.String(36), sa.ForeignKey("waitlist_entries.id"), nullable=False),
    sa.Column("school_id", sa.String(36), nullable=False),
    sa.Column("student_id", sa.String(36), nullable=False),
    sa.Column("adviser_id", sa.String(36), nullable=False),
    sa.Column("session_type", sa.String(30), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("offered_to", sa.JSON(), nullable=False),
    sa.Column("offered_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Index("ix_waitlist_offers_due", "status", "expires_at"),
)

dropin_sessions = sa.Table(
    "dropin_sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("adviser_id", sa.String(36), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("slot_minutes", sa.Integer(), nullable=False),
)

dropin_queue = sa.Table(
    "dropin_queue",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("session_id", sa.String(36), sa.ForeignKey("dropin_sessions.id"), nullable=False),
    sa.Column("student_id", sa.String(36), sa.ForeignKey("students.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("joined_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("adviser_id", sa.String(36), nullable=True),
    sa.Column("called_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("session_id", "position", name="uq_dropin_queue_position"),
)

# A PA's secret feed. The token is never stored: only its nonce (from which the service's
# key derives it again, to show the PA their URL) and its SHA-256, which a fetch is looked
# up by. Rotation replaces the row, so the old URL stops at once.
calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    sa.Column("adviser_id", sa.String(36), primary_key=True),
    sa.Column("nonce", sa.String(32), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_fetched_at", UtcDateTime(), nullable=True),
    sa.Column("fetches", sa.Integer(), nullable=False, server_default="0"),
)

# A PA's own published calendar, fetched by the import job when `due_at` passes. A claim
# sets `lease_until` and commits before the fetch, so a job that dies frees the row again.
# Only the busy intervals are kept (in `adviser_busy`, source 'calendar'), never titles.
calendar_imports = sa.Table(
    "calendar_imports",
    metadata,
    sa.Column("adviser_id", sa.String(36), primary_key=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("etag", sa.String(200), nullable=True),
    sa.Column("last_modified", sa.String(64), nullable=True),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("last_fetched_at", UtcDateTime(), nullable=True),
    sa.Column("last_result", sa.String(20), nullable=True),
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("last_good_at", UtcDateTime(), nullable=True),
    sa.Column("busy_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index("ix_calendar_imports_due", "due_at"),
)

# Each appointment version found clashing with imported busy time is alerted once.
calendar_clashes = sa.Table(
    "calendar_clashes",
    metadata,
    sa.Column("appointment_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("adviser_id", sa.String(36), nullable=False),
    sa.Column("detected_at", UtcDateTime(), nullable=False),
)

# Contact routes notifications could not deliver to, shown to the school's staff; written
# only from `notifications.contact.undeliverable` (a code, never the address itself).
contact_alerts = sa.Table(
    "contact_alerts",
    metadata,
    sa.Column("owner_id", sa.String(64), primary_key=True),
    sa.Column("route", sa.Integer(), primary_key=True),
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("owner_kind", sa.String(20), nullable=False),
    sa.Column("school_id", sa.String(36), nullable=True, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(30), nullable=False),
    sa.Column("reported_at", UtcDateTime(), nullable=False),
)
