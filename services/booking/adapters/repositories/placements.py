"""What a booking's decision reads, as one `PlacementContext`.

The reads are those the decision made as it went, in as few round trips: the school, its
agreement, the day's grid, the advisers' kinds and agreed minutes come from the in-process
reference cache; then one statement reads what holds the advisers offering that start and
the student (`booking_reads`). Two reads follow only when they can matter: a targeted
student's sessions with those advisers (continuity), and whole rows of the appointments the
new one could meet (a seat in a shared session, or the student's own clash).

Reading them up front, before the decision, rather than between its steps costs a round
trip only in rarer cases than the hot path: a targeted student's history is read even when
the booking is then refused or a move keeps its adviser, and a shared session's seats are
read when any adviser offering that start holds some, not only the one chosen. The common
booking (a free one-to-one slot, no targeted student, reference data cached) still makes a
single read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.booking_reads import AroundSlot, appointment_rows, read_around
from services.booking.adapters.orm import appointments
from services.booking.adapters.repositories.appointments import appointment_from_row
from services.booking.adapters.repositories.reference import ReferenceReads
from services.booking.adapters.repositories.schools import load_student
from services.booking.domain.model import AdviserKind, AppointmentStatus, Interval, as_utc
from services.booking.domain.placement import PlacementContext, PlacementRequest


@dataclass(frozen=True)
class _Seen:
    """A session the student attended with one of the candidate advisers."""

    adviser_id: str
    student_id: str
    interval: Interval
    status: AppointmentStatus = AppointmentStatus.ATTENDED


class PlacementReads:
    def __init__(self, session: AsyncSession, reference: ReferenceReads) -> None:
        self._session = session
        self._reference = reference

    async def context_for(self, request: PlacementRequest) -> PlacementContext:
        s, reference = self._session, self._reference
        school = await reference.school(request.school_id)
        if school is None:
            return PlacementContext(calendar=None)
        calendar = school.calendar
        day = calendar.local_date(request.starts_at)
        agreement = await reference.agreement(request.school_id, day)
        config = agreement.session_types.get(request.session_type) if agreement else None
        if agreement is None or config is None:
            student = await load_student(s, request.student_id)
            return PlacementContext(calendar, agreement, student)
        start = as_utc(request.starts_at)
        grid = reference.grid(agreement, calendar, request.session_type, day)
        offers = grid.get(start, ())
        adviser_ids = tuple(sorted({o.adviser_id for o in offers}))
        window = Interval(
            start - config.buffer,
            max((o.interval.end for o in offers), default=start + config.length) + config.buffer,
        )
        connection = await s.connection()
        around = await read_around(
            connection,
            school_id=request.school_id,
            student_id=request.student_id,
            adviser_ids=adviser_ids,
            start=start,
            window=window,
            day=calendar.whole_day(day),
            ignore=request.moving.id if request.moving is not None else None,
        )
        if not offers:
            return PlacementContext(calendar, agreement, around.student)
        student = around.student
        targeted = student is not None and student.is_priority
        kinds = await reference.adviser_kinds(adviser_ids)
        rows = await appointment_rows(
            connection, _could_meet(around, request.student_id, offers[0].interval)
        )
        seats_held: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            seats_held[row.place_key].add(row.seat)
        return PlacementContext(
            calendar,
            agreement,
            student,
            grid=grid,
            busy=around.busy,
            seats=around.seats,
            booked_minutes=around.booked_minutes,
            holds_offer=around.holds_offer,
            adviser_kinds={
                adviser_id: tuple(AdviserKind(kind) for kind in found)
                for adviser_id, found in kinds.items()
            },
            agreed_minutes=reference.agreed_minutes(agreement, calendar, day),
            history=await self._seen(request.student_id, adviser_ids) if targeted else (),
            meeting=[appointment_from_row(row) for row in rows],
            seats_held={key: frozenset(seats) for key, seats in seats_held.items()},
        )

    async def _seen(self, student_id: str, adviser_ids: Sequence[str]) -> list[_Seen]:
        """Continuity is kept for targeted students only: who among these advisers they saw."""
        rows = await self._session.execute(
            sa.select(
                appointments.c.adviser_id, appointments.c.starts_at, appointments.c.ends_at
            ).where(
                appointments.c.student_id == student_id,
                appointments.c.status == AppointmentStatus.ATTENDED.value,
                appointments.c.adviser_id.in_(adviser_ids),
            )
        )
        return [
            _Seen(row.adviser_id, student_id, Interval(row.starts_at, row.ends_at)) for row in rows
        ]


def _could_meet(around: AroundSlot, student_id: str, interval: Interval) -> list[str]:
    """The nearby appointments a new one at `interval` could meet, whichever adviser it gets.

    An adviser offering the slot is free then but for the seats of a shared session at that
    very interval; the student's own overlapping appointments would clash.
    """
    return [
        a.id
        for a in around.nearby
        if a.interval.overlaps(interval)
        and (a.student_id == student_id or (a.adviser_id, a.interval) in around.seats)
    ]
