"""Each PA's own published calendar, imported as busy time.

A PA registers their calendar's URL; the import job takes the next one due, commits that
claim (a lease, so a job that dies frees it), fetches with no transaction open, then
records the outcome. A good fetch replaces the PA's imported busy time; a broken, huge or
slow calendar is reported to the PA and leaves the last good busy time in place. Busy time
found to overlap an appointment already booked is announced once per appointment version
(`booking.adviser.clash_detected`) for the school's staff and the PA: nothing is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.booking.application.calendars import CalendarImport
from services.booking.domain.appointments import Appointment
from services.booking.domain.calendars import IMPORT_AHEAD, merge
from services.booking.domain.model import Interval
from shared.events.booking import AdviserClashDetected
from shared.ports import Transaction


class CalendarUnavailable(Exception):
    """Why a calendar could not be fetched or read: a short `code` and a `message` fit to
    show the PA (never the URL)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fetched(Protocol):
    @property
    def body(self) -> bytes | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified(self) -> str | None: ...


class Fetcher(Protocol):
    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched: ...


class Imports(Protocol):
    async def get(self, adviser_id: str) -> CalendarImport | None: ...
    async def register(self, adviser_id: str, url: str, now: datetime) -> None: ...
    async def remove(self, adviser_id: str) -> None: ...
    async def claim_due(self, now: datetime, lease_until: datetime) -> CalendarImport | None: ...
    async def record(self, adviser_id: str, url: str, **values: Any) -> bool: ...
    async def replace_busy(self, adviser_id: str, intervals: Sequence[Interval]) -> None: ...
    async def unalerted(self, adviser_id: str, span: Interval) -> list[Appointment]: ...
    async def mark_alerted(self, alerted: Sequence[Appointment], now: datetime) -> None: ...


class ImportUnit(Transaction, Protocol):
    @property
    def calendar_imports(self) -> Imports: ...


ReadBusy = Callable[[bytes, Interval], list[Interval]]


@dataclass(frozen=True)
class ImportTimings:
    refresh_every: timedelta
    lease: timedelta


def import_window(now: datetime) -> Interval:
    """The busy time kept: from a day ago (so nothing ongoing is lost) over the horizon."""
    return Interval(now - timedelta(days=1), now + IMPORT_AHEAD)


async def register_import(uow: ImportUnit, adviser_id: str, url: str, now: datetime) -> None:
    async with uow:
        await uow.calendar_imports.register(adviser_id, url, now)
        await uow.commit()


async def show_import(uow: ImportUnit, adviser_id: str) -> CalendarImport | None:
    async with uow:
        return await uow.calendar_imports.get(adviser_id)


async def stop_import(uow: ImportUnit, adviser_id: str) -> bool:
    """Forget the URL and the busy time it gave."""
    async with uow:
        existed = await uow.calendar_imports.get(adviser_id) is not None
        await uow.calendar_imports.remove(adviser_id)
        await uow.commit()
    return existed


def clashes(busy: Sequence[Interval], booked: Sequence[Appointment]) -> list[Appointment]:
    return [a for a in booked if any(b.overlaps(a.interval) for b in busy)]


async def refresh_next_import(
    unit_of_work: Callable[[], ImportUnit],
    fetcher: Fetcher,
    read_busy: ReadBusy,
    clock: Callable[[], datetime],
    timings: ImportTimings,
) -> str | None:
    """Refresh the next calendar due; its outcome ('ok', 'not_modified', 'superseded' when
    the PA changed or removed the URL meanwhile, or an error code), or None if none is due."""
    now = clock()
    async with unit_of_work() as uow:
        job = await uow.calendar_imports.claim_due(now, now + timings.lease)
        await uow.commit()
    if job is None:
        return None
    body: bytes | None = None
    busy: list[Interval] | None = None
    try:
        fetched = await fetcher.fetch(job.url, etag=job.etag, last_modified=job.last_modified)
        if fetched.body is not None:
            busy = merge(read_busy(fetched.body, import_window(clock())))
        body = fetched.body
    except CalendarUnavailable as exc:
        return await _record_failure(unit_of_work(), job, exc.code, exc.message, clock(), timings)
    done = clock()
    outcome = {"last_fetched_at": done, "due_at": done + timings.refresh_every}
    async with unit_of_work() as uow:
        imports = uow.calendar_imports
        if body is None or busy is None:
            await imports.record(job.adviser_id, job.url, last_result="not_modified", **outcome)
            await uow.commit()
            return "not_modified"
        written = await imports.record(
            job.adviser_id,
            job.url,
            last_result="ok",
            last_error=None,
            last_good_at=done,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            busy_count=len(busy),
            **outcome,
        )
        if not written:
            return "superseded"
        await imports.replace_busy(job.adviser_id, busy)
        await _alert_clashes(uow, job.adviser_id, busy, done)
        await uow.commit()
    return "ok"


async def _record_failure(
    uow: ImportUnit,
    job: CalendarImport,
    code: str,
    message: str,
    now: datetime,
    timings: ImportTimings,
) -> str:
    async with uow:
        await uow.calendar_imports.record(
            job.adviser_id,
            job.url,
            last_result=code,
            last_error=message[:200],
            last_fetched_at=now,
            due_at=now + timings.refresh_every,
        )
        await uow.commit()
    return code


async def _alert_clashes(
    uow: ImportUnit, adviser_id: str, busy: Sequence[Interval], now: datetime
) -> None:
    if not busy:
        return
    span = Interval(min(b.start for b in busy), max(b.end for b in busy))
    clashing = clashes(busy, await uow.calendar_imports.unalerted(adviser_id, span))
    for appointment in clashing:
        await uow.emit(
            AdviserClashDetected(
                appointment_id=appointment.id,
                revision=appointment.revision,
                school_id=appointment.school_id,
                adviser_id=adviser_id,
                starts_at=appointment.interval.start,
                ends_at=appointment.interval.end,
            ),
            key=appointment.id,
        )
    await uow.calendar_imports.mark_alerted(clashing, now)
