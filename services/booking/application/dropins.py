"""The live drop-in queue: sessions come from the agreement, the queue lives in the database.

A drop-in session is materialised as a row the first time anyone asks for the day's sessions,
with an id derived from school, adviser and start, so every replica names it the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import dropin_queue, dropin_sessions
from services.booking.application import reference
from services.booking.application.directory import student_school
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry, QueueStatus
from services.booking.domain.errors import BookingError, NotInQueue
from services.booking.domain.model import SessionType
from shared.db import Database, upsert
from shared.events.booking import DropInTurn
from shared.uow import UnitOfWork

NAMESPACE = uuid.UUID("b7f6d8a2-3f59-4c1e-8d0a-6b8e2f7c1d45")
OPENS_BEFORE = timedelta(minutes=30)


class UnknownDropIn(BookingError):
    code = "unknown_dropin"

    def __init__(self) -> None:
        super().__init__("That drop-in session could not be found.")


class DropInNotOpen(BookingError):
    code = "dropin_not_open"

    def __init__(self) -> None:
        super().__init__(
            "The queue opens 30 minutes before the drop-in session and closes when it ends."
        )


class QueueBusy(BookingError):
    code = "queue_busy"

    def __init__(self) -> None:
        super().__init__("Lots of people joined at once; please try again.")


@dataclass(frozen=True)
class DropInSession:
    id: str
    school_id: str
    adviser_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    slot_minutes: int


@dataclass(frozen=True)
class QueuePlace:
    session: DropInSession
    entry: QueueEntry
    position: int | None
    estimated_wait: timedelta | None


async def sessions_on(
    db: Database, new_uow: Callable[[], UnitOfWork], school_id: str, day: date
) -> list[DropInSession]:
    """The school's drop-in sessions on local date `day`, each stored as a row.

    The sessions come from the cached agreement and are read back by id; a unit of work
    opens only to store the ones not stored yet (or changed since), which is normally the
    first call for a school and day. Two replicas storing the same session at once agree,
    as the id is derived and the write is an upsert.
    """
    async with db.read_session() as s:
        found = await _planned(s, school_id, day)
        stored = await _stored(s, [session.id for session in found])
    unstored = [session for session in found if stored.get(session.id) != session]
    if unstored:
        async with new_uow() as uow:
            for session in unstored:
                await upsert(uow.session, dropin_sessions, session.__dict__)
            await uow.commit()
    return found


async def _planned(db: AsyncSession, school_id: str, day: date) -> list[DropInSession]:
    """The drop-in sessions the agreement in force sets on `day`, by start and adviser."""
    school = await reference.school(db, school_id)
    agreement = await reference.agreement(db, school_id, day)
    if school is None or agreement is None or SessionType.DROPIN not in agreement.session_types:
        return []
    found = []
    slot_minutes = agreement.config(SessionType.DROPIN).length_minutes
    for adviser_id in agreement.adviser_ids:
        for window in agreement.windows(adviser_id, day, day, school.calendar):
            if SessionType.DROPIN not in window.session_types:
                continue
            key = f"{school_id}|{adviser_id}|{window.interval.start.isoformat()}"
            found.append(
                DropInSession(
                    id=str(uuid.uuid5(NAMESPACE, key)),
                    school_id=school_id,
                    adviser_id=adviser_id,
                    starts_at=window.interval.start,
                    ends_at=window.interval.end,
                    location=window.room,
                    slot_minutes=slot_minutes,
                )
            )
    return sorted(found, key=lambda s: (s.starts_at, s.adviser_id))


async def _stored(db: AsyncSession, ids: Sequence[str]) -> dict[str, DropInSession]:
    if not ids:
        return {}
    rows = await db.execute(sa.select(dropin_sessions).where(dropin_sessions.c.id.in_(ids)))
    return {row.id: DropInSession(**row._mapping) for row in rows}


async def get_session(db: AsyncSession, session_id: str) -> DropInSession:
    row = (
        await db.execute(sa.select(dropin_sessions).where(dropin_sessions.c.id == session_id))
    ).first()
    if row is None:
        raise UnknownDropIn()
    return DropInSession(**row._mapping)


async def _queue(
    db: AsyncSession, session: DropInSession, *, lock: bool = True
) -> tuple[DropInQueue, dict[str, Any]]:
    """The session's queue; when about to change it, locked for this transaction on PostgreSQL.

    Two advisers pressing "next" at once must not call the same student: the second waits
    for the first to commit and then reads the queue as it left it. (SQLite serialises every
    write transaction anyway.) Students polling their place read without a lock.
    """
    query = (
        sa.select(dropin_queue)
        .where(dropin_queue.c.session_id == session.id)
        .order_by(dropin_queue.c.position)
    )
    if lock and db.bind is not None and db.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = (await db.execute(query)).all()
    entries = [
        QueueEntry(
            student_id=r.student_id,
            joined_at=r.joined_at,
            status=QueueStatus(r.status),
            adviser_id=r.adviser_id,
            called_at=r.called_at,
            finished_at=r.finished_at,
        )
        for r in rows
    ]
    open_rows = {
        entry.student_id: row for entry, row in zip(entries, rows, strict=True) if entry.is_open
    }
    return DropInQueue(session.id, session.slot_minutes, 1, entries), open_rows


def _place(queue: DropInQueue, session: DropInSession, entry: QueueEntry) -> QueuePlace:
    waiting = entry.status is QueueStatus.WAITING
    return QueuePlace(
        session,
        entry,
        queue.position(entry.student_id) if waiting else None,
        queue.estimated_wait(entry.student_id) if waiting else None,
    )


async def join_queue(
    uow: UnitOfWork, session_id: str, student_id: str, now: datetime
) -> QueuePlace:
    session = await get_session(uow.session, session_id)
    if await student_school(uow.session, student_id) != session.school_id:
        raise UnknownDropIn()
    if not session.starts_at - OPENS_BEFORE <= now < session.ends_at:
        raise DropInNotOpen()
    queue, _ = await _queue(uow.session, session)
    entry = queue.join(student_id, now)
    await uow.session.execute(
        dropin_queue.insert().values(
            id=str(uuid.uuid4()),
            session_id=session.id,
            student_id=student_id,
            position=len(queue.entries),
            joined_at=entry.joined_at,
            status=entry.status.value,
        )
    )
    try:
        await uow.commit()
    except IntegrityError as exc:  # another student took the same place in line first
        raise QueueBusy() from exc
    return _place(queue, session, entry)


async def queue_place(db: AsyncSession, session_id: str, student_id: str) -> QueuePlace:
    session = await get_session(db, session_id)
    queue, open_rows = await _queue(db, session, lock=False)
    if student_id not in open_rows:
        raise NotInQueue(student_id)
    entry = next(e for e in queue.entries if e.student_id == student_id and e.is_open)
    return _place(queue, session, entry)


async def queue_view(db: AsyncSession, session_id: str) -> tuple[DropInSession, DropInQueue]:
    session = await get_session(db, session_id)
    queue, _ = await _queue(db, session, lock=False)
    return session, queue


async def call_next(
    uow: UnitOfWork, session_id: str, adviser_id: str, now: datetime
) -> QueueEntry | None:
    """The adviser is ready: the first waiting student is told it is their turn."""
    session = await get_session(uow.session, session_id)
    queue, open_rows = await _queue(uow.session, session)
    called = queue.call_next(adviser_id, now)
    if called is None:
        return None
    await _store(uow, open_rows[called.student_id].id, called)
    await uow.emit(
        DropInTurn(
            session_id=session.id,
            school_id=session.school_id,
            student_id=called.student_id,
            location=session.location,
        ),
        key=called.student_id,
    )
    await uow.commit()
    return called


async def finish(
    uow: UnitOfWork, session_id: str, student_id: str, *, seen: bool, now: datetime
) -> QueueEntry:
    """Complete a student who was seen, or skip one who did not come when called."""
    session = await get_session(uow.session, session_id)
    queue, open_rows = await _queue(uow.session, session)
    entry = queue.complete(student_id, now) if seen else queue.skip(student_id, now)
    row = open_rows[student_id]
    await _store(uow, row.id, entry)
    await uow.commit()
    return entry


async def _store(uow: UnitOfWork, row_id: str, entry: QueueEntry) -> None:
    await uow.session.execute(
        dropin_queue.update()
        .where(dropin_queue.c.id == row_id)
        .values(
            status=entry.status.value,
            adviser_id=entry.adviser_id,
            called_at=entry.called_at,
            finished_at=entry.finished_at,
        )
    )
