"""Booking's unit of work: `shared.uow.UnitOfWork` with booking's repositories on its session;
and the same repositories over a read-only session, for the pages and queries."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.repositories.agreements import AgreementRepository
from services.booking.adapters.repositories.appointments import AppointmentRepository
from services.booking.adapters.repositories.availability import BusyTimeReads
from services.booking.adapters.repositories.calendars import (
    CalendarImportRepository,
    FeedRepository,
)
from services.booking.adapters.repositories.contact_alerts import ContactAlertRepository
from services.booking.adapters.repositories.directory import DirectoryRepository
from services.booking.adapters.repositories.directory_reads import DirectoryReads
from services.booking.adapters.repositories.dropins import DropInRepository
from services.booking.adapters.repositories.erasure import ErasureRepository
from services.booking.adapters.repositories.placements import PlacementReads
from services.booking.adapters.repositories.reference import ReferenceReads
from services.booking.adapters.repositories.schools import SchoolRepository, StudentRepository
from services.booking.adapters.repositories.waitlist import WaitlistRepository
from services.booking.application.cache import ReferenceCache
from services.booking.application.ports import LostRace
from shared.db import Database, lost_to_concurrent_transaction
from shared.uow import UnitOfWork


class BookingRepositories:
    """Booking's repositories over one session; reference data through `cache`."""

    _cache: ReferenceCache
    appointments: AppointmentRepository
    placements: PlacementReads
    schools: SchoolRepository
    students: StudentRepository
    waitlist: WaitlistRepository
    dropins: DropInRepository
    busy: BusyTimeReads
    directory: DirectoryRepository
    listing: DirectoryReads
    agreements: AgreementRepository
    erasures: ErasureRepository
    feeds: FeedRepository
    calendar_imports: CalendarImportRepository
    contact_alerts: ContactAlertRepository

    def _open_repositories_over(self, session: AsyncSession) -> None:
        reference = ReferenceReads(session, self._cache)
        self.appointments = AppointmentRepository(session)
        self.placements = PlacementReads(session, reference)
        self.schools = SchoolRepository(reference)
        self.students = StudentRepository(session)
        self.waitlist = WaitlistRepository(session)
        self.dropins = DropInRepository(session)
        self.busy = BusyTimeReads(session)
        self.directory = DirectoryRepository(session)
        self.agreements = AgreementRepository(session)
        self.erasures = ErasureRepository(session)
        self.feeds = FeedRepository(session)
        self.calendar_imports = CalendarImportRepository(session)
        self.contact_alerts = ContactAlertRepository(session)
        self.listing = DirectoryReads(session)


class BookingReads(BookingRepositories):
    """The repositories over a read session (`Database.read_session`): nothing to commit."""

    def __init__(self, session: AsyncSession, cache: ReferenceCache) -> None:
        self._cache = cache
        self._open_repositories_over(session)


class BookingUnitOfWork(BookingRepositories, UnitOfWork):
    """Each entry opens a new session and the repositories over it; `within(session)` opens
    them over the event consumer's session instead."""

    def __init__(
        self,
        db: Database,
        *,
        producer: str,
        cache: ReferenceCache,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(db, producer=producer, on_commit=on_commit)
        self._cache = cache

    def reference_changed(self) -> None:
        self._cache.invalidate()

    def lost_race(self, exc: BaseException) -> LostRace | None:
        """PostgreSQL's exclusion constraints and the unique seat index refuse what a
        concurrent transaction slipped past the domain's check; a deadlock between two
        clashing inserts is a lost race like any other."""
        if isinstance(exc, IntegrityError):
            student = "student_no_overlap" in str(exc.orig)
            return LostRace.STUDENT if student else LostRace.PLACE
        if isinstance(exc, DBAPIError) and lost_to_concurrent_transaction(exc):
            return LostRace.PLACE
        return None
