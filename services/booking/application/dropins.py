"""The live drop-in queue: sessions come from the agreement, the queue lives in the database.

A drop-in session is stored the first time anyone asks for the day's sessions, with an id
derived from school, adviser and start, so every replica names it the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from services.booking.application.ports import BookingUnit, DropIns, DropInSession, Schools
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry, QueueStatus
from services.booking.domain.errors import BookingError, NotInQueue
from services.booking.domain.model import SessionType
from shared.events.booking import DropInTurn

__all__ = ["DropInSession"]  # named here too, as the entrypoints know it

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
class QueuePlace:
    session: DropInSession
    entry: QueueEntry
    position: int | None
    estimated_wait: timedelta | None


@dataclass(frozen=True)
class JoinQueue:
    session_id: str
    student_id: str


@dataclass(frozen=True)
class CallNext:
    session_id: str
    adviser_id: str


@dataclass(frozen=True)
class FinishTurn:
    """The called student was seen (`seen`), or did not come and is skipped."""

    session_id: str
    student_id: str
    seen: bool


async def planned(schools: Schools, school_id: str, day: date) -> list[DropInSession]:
    """The drop-in sessions the agreement in force sets on `day`, by start and adviser.

    They come from the cached agreement, so reading them costs no round trip.
    """
    school = await schools.get(school_id)
    agreement = await schools.agreement(school_id, day)
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


class DropInReads(Protocol):
    @property
    def schools(self) -> Schools: ...
    @property
    def dropins(self) -> DropIns: ...


async def sessions_on(
    reads: Callable[[], AbstractAsyncContextManager[DropInReads]],
    school_id: str,
    day: date,
    uow: BookingUnit,
) -> list[DropInSession]:
    """Every drop-in at the school on `day`: the agreement's (stored now if they are not yet)
    and any other stored for that day (one opened by hand, or by the demo)."""
    async with reads() as read:
        found = await planned(read.schools, school_id, day)
        stored = await read.dropins.stored([s.id for s in found])
    await store_sessions(found, stored, uow)
    async with reads() as read:
        school = await read.schools.get(school_id)
        if school is None:
            return found
        whole_day = school.calendar.whole_day(day)
        others = await read.dropins.at_school(school_id, whole_day.start, whole_day.end)
    known = {s.id for s in found}
    extra = [session for session in others if session.id not in known]
    return sorted([*found, *extra], key=lambda s: (s.starts_at, s.adviser_id))


async def store_sessions(
    found: list[DropInSession], stored: Mapping[str, DropInSession], uow: BookingUnit
) -> None:
    """Store the sessions not stored yet (or changed since); a unit of work opens only then,
    which is normally the first call for a school and day."""
    unstored = [session for session in found if stored.get(session.id) != session]
    if not unstored:
        return
    async with uow:
        for session in unstored:
            await uow.dropins.store(session)
        await uow.commit()


async def get_session(dropins: DropIns, session_id: str) -> DropInSession:
    found = await dropins.get(session_id)
    if found is None:
        raise UnknownDropIn()
    return found


def _place(queue: DropInQueue, session: DropInSession, entry: QueueEntry) -> QueuePlace:
    waiting = entry.status is QueueStatus.WAITING
    return QueuePlace(
        session,
        entry,
        queue.position(entry.student_id) if waiting else None,
        queue.estimated_wait(entry.student_id) if waiting else None,
    )


async def join_queue(cmd: JoinQueue, uow: BookingUnit, now: datetime) -> QueuePlace:
    async with uow:
        session = await get_session(uow.dropins, cmd.session_id)
        student = await uow.students.get(cmd.student_id)
        if student is None or student.school_id != session.school_id:
            raise UnknownDropIn()
        if not session.starts_at - OPENS_BEFORE <= now < session.ends_at:
            raise DropInNotOpen()
        queue, _ = await uow.dropins.queue(session, lock=True)
        entry = queue.join(cmd.student_id, now)
        await uow.dropins.add_entry(session.id, entry, len(queue.entries))
        try:
            await uow.commit()
        except Exception as exc:
            if uow.lost_race(exc) is None:
                raise
            raise QueueBusy() from exc  # another student took the same place in line first
    return _place(queue, session, entry)


async def queue_place(dropins: DropIns, session_id: str, student_id: str) -> QueuePlace:
    """A student's place in the queue, read without a lock."""
    session = await get_session(dropins, session_id)
    queue, open_ids = await dropins.queue(session, lock=False)
    if student_id not in open_ids:
        raise NotInQueue(student_id)
    entry = next(e for e in queue.entries if e.student_id == student_id and e.is_open)
    return _place(queue, session, entry)


async def queue_view(dropins: DropIns, session_id: str) -> tuple[DropInSession, DropInQueue]:
    session = await get_session(dropins, session_id)
    queue, _ = await dropins.queue(session, lock=False)
    return session, queue


async def call_next(cmd: CallNext, uow: BookingUnit, now: datetime) -> QueueEntry | None:
    """The adviser is ready: the first waiting student is told it is their turn."""
    async with uow:
        session = await get_session(uow.dropins, cmd.session_id)
        queue, open_ids = await uow.dropins.queue(session, lock=True)
        called = queue.call_next(cmd.adviser_id, now)
        if called is None:
            return None
        await uow.dropins.update_entry(open_ids[called.student_id], called)
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


async def finish(cmd: FinishTurn, uow: BookingUnit, now: datetime) -> QueueEntry:
    """Complete a student who was seen, or skip one who did not come when called."""
    async with uow:
        session = await get_session(uow.dropins, cmd.session_id)
        queue, open_ids = await uow.dropins.queue(session, lock=True)
        student_id = cmd.student_id
        entry = queue.complete(student_id, now) if cmd.seen else queue.skip(student_id, now)
        await uow.dropins.update_entry(open_ids[student_id], entry)
        await uow.commit()
    return entry
