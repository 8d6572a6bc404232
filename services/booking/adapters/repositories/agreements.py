"""Partnership Agreements in and out of their table, stored as their terms."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import agreements
from services.booking.application.agreements import AgreementTerms, academic_year_of
from services.booking.domain.agreement import PartnershipAgreement

_TERM_FIELDS = tuple(AgreementTerms.model_fields)


class AgreementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def terms(self, school_id: str, academic_year: str) -> AgreementTerms | None:
        return await load_terms(self._session, school_id, academic_year)

    async def save(self, values: dict[str, Any]) -> None:
        """Replace the school's agreement for the year (`agreement_values`), or add it."""
        existing = await self._session.scalar(
            sa.select(agreements.c.id).where(
                agreements.c.school_id == values["school_id"],
                agreements.c.academic_year == values["academic_year"],
            )
        )
        if existing is None:
            stmt = agreements.insert().values(id=str(uuid.uuid4()), **values)
            await self._session.execute(stmt)
        else:
            await self._session.execute(
                agreements.update().where(agreements.c.id == existing).values(**values)
            )


async def load_terms(
    session: AsyncSession, school_id: str, academic_year: str
) -> AgreementTerms | None:
    row = (
        await session.execute(
            sa.select(*(agreements.c[f] for f in _TERM_FIELDS)).where(
                agreements.c.school_id == school_id, agreements.c.academic_year == academic_year
            )
        )
    ).first()
    return None if row is None else AgreementTerms.model_validate(dict(row._mapping))


async def load_agreement(
    session: AsyncSession, school_id: str, day: date
) -> PartnershipAgreement | None:
    """The agreement in force at the school on the local date `day`."""
    year = academic_year_of(day)
    terms = await load_terms(session, school_id, year)
    return None if terms is None else terms.to_agreement(school_id, year)
