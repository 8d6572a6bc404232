"""What one booking reads, in one statement built once.

Booking a slot needs the student, what already holds each adviser offering that start
(appointments, imported calendar time, waitlist offers held for somebody else), the seats
taken in shared sessions, the student's own appointments then (the diary's view), whether the
student holds an offer for that start, and each adviser's booked minutes that day (the load
the allocation balances). Read one by one that was nine round trips; here it is one UNION
ALL of the student, calendar time, waitlist offers, the day's loads and the confirmed
appointments around the slot of those advisers or of the student (their times, capacity and
student only).

Whole appointment rows are needed only when the new appointment meets existing ones (a seat
in a shared session, or a clash the diary must explain): `appointment_rows` reads those few
by id, a second round trip that the common case never makes.

The statements are module constants with bound parameters, so SQLAlchemy compiles each once
per process and the database prepares it once per connection.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from services.booking.adapters.orm import adviser_busy, appointments, students, waitlist_offers
from services.booking.domain.model import (
    LONGEST_SESSION_MINUTES,
    AppointmentStatus,
    Interval,
    PriorityFlag,
    Student,
)
from shared.db import UtcDateTime

_STUDENT = sa.bindparam("student", type_=sa.String())
_SCHOOL = sa.bindparam("school", type_=sa.String())
_START = sa.bindparam("start", type_=UtcDateTime())
_LO = sa.bindparam("lo", type_=UtcDateTime())
_HI = sa.bindparam("hi", type_=UtcDateTime())
_DAY_START = sa.bindparam("day_start", type_=UtcDateTime())
_DAY_END = sa.bindparam("day_end", type_=UtcDateTime())
# The earliest start of an appointment that can still overlap the window: no session is
# longer than LONGEST_SESSION_MINUTES, so the scan of an adviser's appointments by
# (adviser_id, starts_at) is bounded on both sides however long their history grows.
_EARLIEST = sa.bindparam("earliest", type_=UtcDateTime())


def _null(type_: Any) -> Any:
    return sa.type_coerce(sa.null(), type_)


def _among(postgres: bool) -> Callable[[sa.ColumnElement[str]], sa.ColumnElement[bool]]:
    """`column IN (the advisers)`: one array parameter on PostgreSQL, so the statement is
    the same text for any number of advisers; an expanding list elsewhere."""
    if postgres:
        array = sa.bindparam("advisers", type_=postgresql.ARRAY(sa.String()))
        return lambda column: column == sa.any_(array)
    listed = sa.bindparam("advisers", expanding=True, type_=sa.String())
    return lambda column: column.in_(listed)


def _statements(postgres: bool) -> sa.CompoundSelect[Any]:
    among = _among(postgres)
    facts = sa.union_all(
        # The first branch fixes the column types the results are read back with.
        sa.select(
            sa.literal_column("'busy'").label("kind"),
            _null(sa.String()).label("ref"),
            adviser_busy.c.adviser_id.label("adviser_id"),
            adviser_busy.c.starts_at.label("starts_at"),
            adviser_busy.c.ends_at.label("ends_at"),
            _null(sa.Integer()).label("n"),
            _null(sa.Text()).label("extra"),
        ).where(
            among(adviser_busy.c.adviser_id),
            adviser_busy.c.starts_at < _HI,
            adviser_busy.c.ends_at > _LO,
        ),
        sa.select(
            sa.literal_column("'student'"),
            students.c.id,
            students.c.school_id,
            sa.null(),
            sa.null(),
            students.c.year_group,
            sa.cast(students.c.priority_flags, sa.Text()),
        ).where(students.c.id == _STUDENT),
        sa.select(
            sa.literal_column("'offer'"),
            waitlist_offers.c.student_id,
            waitlist_offers.c.adviser_id,
            waitlist_offers.c.starts_at,
            waitlist_offers.c.ends_at,
            sa.null(),
            sa.null(),
        ).where(
            waitlist_offers.c.status == "open",
            sa.or_(
                sa.and_(
                    among(waitlist_offers.c.adviser_id),
                    waitlist_offers.c.starts_at < _HI,
                    waitlist_offers.c.ends_at > _LO,
                ),
                sa.and_(
                    waitlist_offers.c.student_id == _STUDENT,
                    waitlist_offers.c.starts_at == _START,
                ),
            ),
        ),
        sa.select(
            sa.literal_column("'load'"),
            sa.null(),
            appointments.c.adviser_id,
            sa.null(),
            sa.null(),
            sa.func.sum(appointments.c.minutes),
            sa.null(),
        )
        .where(
            appointments.c.school_id == _SCHOOL,
            among(appointments.c.adviser_id),
            appointments.c.status != AppointmentStatus.CANCELLED.value,
            appointments.c.starts_at >= _DAY_START,
            appointments.c.starts_at < _DAY_END,
        )
        .group_by(appointments.c.adviser_id),
        sa.select(
            sa.literal_column("'appointment'"),
            appointments.c.id,
            appointments.c.adviser_id,
            appointments.c.starts_at,
            appointments.c.ends_at,
            appointments.c.capacity,
            appointments.c.student_id,
        ).where(
            appointments.c.status == AppointmentStatus.CONFIRMED.value,
            appointments.c.starts_at < _HI,
            appointments.c.starts_at >= _EARLIEST,
            appointments.c.ends_at > _LO,
            sa.or_(among(appointments.c.adviser_id), appointments.c.student_id == _STUDENT),
        ),
    )
    return facts


_STATEMENTS = {True: _statements(True), False: _statements(False)}


@dataclass(frozen=True)
class Nearby:
    """A confirmed appointment of one of the advisers, or of the student, near the slot."""

    id: str
    adviser_id: str
    student_id: str
    interval: Interval


@dataclass(frozen=True)
class AroundSlot:
    """What holds the advisers and the student around one start, and the day's loads.

    `busy` is per adviser (appointments, calendar time, offers held for others); `seats`
    counts students in shared sessions by (adviser, interval); `nearby` are the confirmed
    appointments of those advisers or of the student over the window read.
    """

    student: Student | None
    busy: dict[str, list[Interval]]
    seats: dict[tuple[str, Interval], int]
    booked_minutes: dict[str, int]
    holds_offer: bool
    nearby: list[Nearby]


async def appointment_rows(conn: AsyncConnection, ids: Sequence[str]) -> list[Any]:
    """Whole rows of the appointments `ids` (see the module's docstring)."""
    if not ids:
        return []
    found = await conn.execute(sa.select(appointments).where(appointments.c.id.in_(ids)))
    return list(found)


async def read_around(
    conn: AsyncConnection,
    *,
    school_id: str,
    student_id: str,
    adviser_ids: Sequence[str],
    start: datetime,
    window: Interval,
    day: Interval,
    ignore: str | None = None,
) -> AroundSlot:
    """Everything around `start` for `adviser_ids` over `window`, loads over `day`.

    The appointment `ignore` (one being moved) does not hold anyone.
    """
    params = {
        "student": student_id,
        "school": school_id,
        "advisers": list(adviser_ids),
        "start": start,
        "lo": window.start,
        "hi": window.end,
        "earliest": window.start - timedelta(minutes=LONGEST_SESSION_MINUTES),
        "day_start": day.start,
        "day_end": day.end,
    }
    student: Student | None = None
    busy: dict[str, list[Interval]] = defaultdict(list)
    seats: dict[tuple[str, Interval], int] = defaultdict(int)
    booked: dict[str, int] = {}
    holds_offer = False
    nearby: list[Nearby] = []
    chosen = set(adviser_ids)
    facts = _STATEMENTS[conn.dialect.name == "postgresql"]
    for kind, ref, adviser_id, starts_at, ends_at, n, extra in await conn.execute(facts, params):
        if kind == "appointment":
            if ref == ignore:
                continue
            interval = Interval(starts_at, ends_at)
            nearby.append(Nearby(ref, adviser_id, extra, interval))
            if adviser_id in chosen:
                busy[adviser_id].append(interval)
                if n > 1:
                    seats[(adviser_id, interval)] += 1
        elif kind == "busy":
            busy[adviser_id].append(Interval(starts_at, ends_at))
        elif kind == "offer":
            if ref != student_id:
                busy[adviser_id].append(Interval(starts_at, ends_at))
            elif starts_at == start:
                holds_offer = True
        elif kind == "load":
            booked[adviser_id] = int(n or 0)
        else:
            flags = json.loads(extra) if extra else []
            student = Student(ref, adviser_id, n, frozenset(PriorityFlag(f) for f in flags))
    return AroundSlot(student, dict(busy), dict(seats), booked, holds_offer, nearby)
