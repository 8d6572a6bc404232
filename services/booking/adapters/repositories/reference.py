"""Reference data every booking reads, held briefly in memory: schools, agreements, advisers.

A booking needs the school's calendar, the agreement in force and the advisers' kinds; they
change a few times a year but were read (and rebuilt) on every request. Each process keeps
them in its `ReferenceCache` for a short TTL: a write through this process (a directory
import, a saved agreement) drops them at once, and the TTL bounds how long a change made
through another replica can go unseen. The database stays the source of truth, and its
constraints the final guard against double booking, whatever the cache holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import advisers
from services.booking.adapters.repositories.agreements import load_agreement
from services.booking.adapters.repositories.schools import load_school
from services.booking.application.agreements import academic_year_of
from services.booking.application.cache import ReferenceCache
from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.availability import GridSlot, day_grid
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.model import SessionType

DayGrid = Mapping[datetime, tuple[GridSlot, ...]]


class ReferenceReads:
    def __init__(self, session: AsyncSession, cache: ReferenceCache) -> None:
        self._session = session
        self._cache = cache

    async def school(self, school_id: str) -> SchoolRecord | None:
        found: SchoolRecord | None = await self._cache.load(
            ("school", school_id), lambda: load_school(self._session, school_id)
        )
        return found

    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None:
        """The agreement in force at the school on the local date `day`."""
        found: PartnershipAgreement | None = await self._cache.load(
            ("agreement", school_id, academic_year_of(day)),
            lambda: load_agreement(self._session, school_id, day),
        )
        return found

    async def adviser_kinds(self, adviser_ids: tuple[str, ...]) -> dict[str, list[str]]:
        """Each adviser's kinds, for the advisers named (unknown ones are left out)."""

        async def read() -> dict[str, list[str]]:
            rows = await self._session.execute(
                sa.select(advisers.c.id, advisers.c.kinds).where(advisers.c.id.in_(adviser_ids))
            )
            return {row.id: list(row.kinds) for row in rows}

        found: dict[str, list[str]] = await self._cache.load(("kinds", adviser_ids), read)
        return found

    def grid(
        self,
        agreement: PartnershipAgreement,
        calendar: SchoolCalendar,
        session_type: SessionType,
        day: date,
    ) -> DayGrid:
        """The agreement's slots of `session_type` on `day`, by start: pure, so kept alongside.

        Held against the very agreement and calendar objects it came from, so it lives
        exactly as long as they do in the cache.
        """
        key = ("grid", agreement.school_id, agreement.academic_year, session_type, day)
        hit, value = self._cache.get(key)
        if hit and value[0] is agreement and value[1] is calendar:
            return value[2]  # type: ignore[no-any-return]
        found = day_grid(agreement, calendar, session_type, day)
        self._cache.put(self._cache.generation, key, (agreement, calendar, found))
        return found

    def agreed_minutes(
        self, agreement: PartnershipAgreement, calendar: SchoolCalendar, day: date
    ) -> dict[str, int]:
        """Each adviser's agreed minutes at the school on `day`: the baseline of their load."""
        key = ("agreed", agreement.school_id, agreement.academic_year, day)
        hit, value = self._cache.get(key)
        if hit and value[0] is agreement and value[1] is calendar:
            return value[2]  # type: ignore[no-any-return]
        found = {
            adviser_id: agreement.agreed_minutes(adviser_id, day, day, calendar)
            for adviser_id in agreement.adviser_ids
        }
        self._cache.put(self._cache.generation, key, (agreement, calendar, found))
        return found
