"""Booking's unit of work: `shared.uow.UnitOfWork` with booking's repositories on its session."""

from __future__ import annotations

from typing import Self

from sqlalchemy.exc import DBAPIError, IntegrityError

from services.booking.adapters.repositories.appointments import AppointmentRepository
from services.booking.adapters.repositories.dropins import DropInRepository
from services.booking.adapters.repositories.placements import PlacementReads
from services.booking.adapters.repositories.schools import SchoolRepository, StudentRepository
from services.booking.adapters.repositories.waitlist import WaitlistRepository
from services.booking.application.ports import LostRace
from shared.db import lost_to_concurrent_transaction
from shared.uow import UnitOfWork


class BookingUnitOfWork(UnitOfWork):
    """Each entry opens a new session and the repositories over it."""

    appointments: AppointmentRepository
    placements: PlacementReads
    schools: SchoolRepository
    students: StudentRepository
    waitlist: WaitlistRepository
    dropins: DropInRepository

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._open_repositories()
        return self

    @classmethod
    def joining(cls, uow: UnitOfWork) -> BookingUnitOfWork:
        """Booking's repositories over a plain unit of work's open transaction."""
        if isinstance(uow, BookingUnitOfWork):
            return uow
        joined = cls(uow._db, producer=uow._producer, on_commit=uow._on_commit)
        joined.session = uow.session
        joined._open_repositories()
        return joined

    def _open_repositories(self) -> None:
        self.appointments = AppointmentRepository(self.session)
        self.placements = PlacementReads(self.session)
        self.schools = SchoolRepository(self.session)
        self.students = StudentRepository(self.session)
        self.waitlist = WaitlistRepository(self.session)
        self.dropins = DropInRepository(self.session)

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
