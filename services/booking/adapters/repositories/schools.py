"""Schools and their agreements (from the in-process reference cache), and students."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.application import reference
from services.booking.application.schools import SchoolRecord, load_student
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.model import Student


class SchoolRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, school_id: str) -> SchoolRecord | None:
        return await reference.school(self._session, school_id)

    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None:
        """The agreement in force at the school on the local date `day`."""
        return await reference.agreement(self._session, school_id, day)


class StudentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, student_id: str) -> Student | None:
        return await load_student(self._session, student_id)
