"""The live queue of a drop-in session: students wait in turn, advisers call the next one.

The wait estimate uses the average length of the slots completed so far in this session
(falling back to the configured slot length), because lunchtime conversations rarely keep to
the timetable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.booking.domain.errors import AlreadyQueued, InvalidTransition, NotInQueue
from services.booking.domain.model import as_utc


class QueueStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SKIPPED = "skipped"
    COMPLETED = "completed"


@dataclass(frozen=True)
class QueueEntry:
    student_id: str
    joined_at: datetime
    status: QueueStatus = QueueStatus.WAITING
    adviser_id: str | None = None
    called_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Still waiting or being seen: such a student cannot join again."""
        return self.status in (QueueStatus.WAITING, QueueStatus.CALLED)


class DropInQueue:
    """One drop-in session's queue, in joining order."""

    def __init__(
        self,
        session_id: str,
        slot_minutes: int = 15,
        advisers_present: int = 1,
        entries: Iterable[QueueEntry] = (),
    ) -> None:
        """`entries` restores a stored queue, in joining order."""
        self.session_id = session_id
        self.slot_minutes = slot_minutes
        self.advisers_present = advisers_present
        self._entries: list[QueueEntry] = list(entries)

    @property
    def entries(self) -> tuple[QueueEntry, ...]:
        return tuple(self._entries)

    def waiting(self) -> list[QueueEntry]:
        return [entry for entry in self._entries if entry.status is QueueStatus.WAITING]

    def join(self, student_id: str, now: datetime) -> QueueEntry:
        if any(e.student_id == student_id and e.is_open for e in self._entries):
            raise AlreadyQueued(student_id)
        entry = QueueEntry(student_id, as_utc(now))
        self._entries.append(entry)
        return entry

    def position(self, student_id: str) -> int:
        """1 for the next student to be called."""
        for place, entry in enumerate(self.waiting(), start=1):
            if entry.student_id == student_id:
                return place
        raise NotInQueue(student_id)

    def estimated_wait(self, student_id: str) -> timedelta | None:
        """Position times average slot length, shared across the advisers present.

        None when no adviser is present: there is no honest estimate to give.
        """
        if self.advisers_present < 1:
            return None
        minutes = self.position(student_id) * self.average_slot_minutes()
        return timedelta(minutes=minutes / self.advisers_present)

    def average_slot_minutes(self) -> float:
        done = [
            (e.finished_at - e.called_at).total_seconds() / 60
            for e in self._entries
            if e.status is QueueStatus.COMPLETED and e.called_at and e.finished_at
        ]
        return sum(done) / len(done) if done else float(self.slot_minutes)

    def call_next(self, adviser_id: str, now: datetime) -> QueueEntry | None:
        """Tell the first waiting student it is their turn with `adviser_id`."""
        waiting = self.waiting()
        if not waiting:
            return None
        called = replace(
            waiting[0], status=QueueStatus.CALLED, adviser_id=adviser_id, called_at=as_utc(now)
        )
        return self._store(called)

    def skip(self, student_id: str, now: datetime) -> QueueEntry:
        """The student did not come when called (or left): take them out of the queue."""
        entry = self._open_entry(student_id)
        return self._store(replace(entry, status=QueueStatus.SKIPPED, finished_at=as_utc(now)))

    def complete(self, student_id: str, now: datetime) -> QueueEntry:
        entry = self._open_entry(student_id)
        if entry.status is not QueueStatus.CALLED:
            raise InvalidTransition("complete", "not yet called")
        return self._store(replace(entry, status=QueueStatus.COMPLETED, finished_at=as_utc(now)))

    def _open_entry(self, student_id: str) -> QueueEntry:
        for entry in self._entries:
            if entry.student_id == student_id and entry.is_open:
                return entry
        raise NotInQueue(student_id)

    def _store(self, updated: QueueEntry) -> QueueEntry:
        index = next(
            i
            for i, entry in enumerate(self._entries)
            if entry.student_id == updated.student_id and entry.is_open
        )
        self._entries[index] = updated
        return updated
