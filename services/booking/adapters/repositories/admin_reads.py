"""The admin's reads: schools with their counts and agreements, PAs, and open sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    accounts,
    advisers,
    agreements,
    schools,
    sessions,
    students,
)
from services.booking.application.admin import AccountRow, SessionRow
from shared.auth.principal import Role


class AdminReadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def school_rows(self) -> list[tuple[str, str, str | None, int]]:
        counts = (
            sa.select(students.c.school_id, sa.func.count().label("n"))
            .group_by(students.c.school_id)
            .subquery()
        )
        query = (
            sa.select(
                schools.c.id,
                schools.c.name,
                schools.c.lead_adviser_id,
                sa.func.coalesce(counts.c.n, 0),
            )
            .select_from(schools.outerjoin(counts, counts.c.school_id == schools.c.id))
            .order_by(schools.c.name, schools.c.id)
        )
        return [(r[0], r[1], r[2], int(r[3])) for r in await self._session.execute(query)]

    async def agreement_advisers(self, academic_year: str) -> dict[str, set[str]]:
        query = sa.select(agreements.c.school_id, agreements.c.attendances).where(
            agreements.c.academic_year == academic_year
        )
        return {
            school_id: {line["adviser_id"] for line in attendances or ()}
            for school_id, attendances in await self._session.execute(query)
        }

    async def adviser_names(self) -> dict[str, str]:
        query = sa.select(advisers.c.id, advisers.c.display_name)
        return {adviser_id: name for adviser_id, name in await self._session.execute(query)}

    async def student_years(self, student_ids: set[str]) -> dict[str, int]:
        if not student_ids:
            return {}
        query = sa.select(students.c.id, students.c.year_group).where(
            students.c.id.in_(sorted(student_ids))
        )
        return {student_id: int(year) for student_id, year in await self._session.execute(query)}

    async def open_sessions(self, now: datetime) -> list[tuple[AccountRow, SessionRow]]:
        query = (
            sa.select(
                accounts.c.id,
                accounts.c.role,
                accounts.c.email,
                accounts.c.display_name,
                accounts.c.school_ids,
                accounts.c.active,
                sessions.c.created_at,
                sessions.c.last_seen_at,
            )
            .select_from(sessions.join(accounts, accounts.c.id == sessions.c.account_id))
            .where(sessions.c.revoked_at.is_(None), sessions.c.expires_at > now)
            .order_by(sessions.c.created_at.desc())
            .limit(500)
        )
        found = []
        for row in await self._session.execute(query):
            account = AccountRow(
                account_id=row.id,
                role=Role(row.role),
                email=row.email,
                display_name=row.display_name,
                school_ids=tuple(row.school_ids or ()),
                active=row.active,
            )
            seen = None if row.last_seen_at is None else _utc(row.last_seen_at)
            found.append((account, SessionRow(row.id, _utc(row.created_at), seen)))
        return found

    async def disabled_accounts(self) -> list[AccountRow]:
        query = (
            sa.select(accounts)
            .where(accounts.c.active.is_(False))
            .order_by(accounts.c.role, accounts.c.email)
        )
        return [
            AccountRow(
                account_id=row.id,
                role=Role(row.role),
                email=row.email,
                display_name=row.display_name,
                school_ids=tuple(row.school_ids or ()),
                active=row.active,
            )
            for row in await self._session.execute(query)
        ]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
