"""Partnership Agreements: stored as their terms, read back as the domain's agreement.

The terms are one document per school and academic year (`2026/27` runs from 1 September
to 31 August), replaced as a whole when the provider revises it, because agreements are
negotiated and signed as a whole too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import advisers, agreements, schools
from services.booking.application.cache import invalidate
from services.booking.domain.agreement import (
    AdviserAttendance,
    AlternateWeeks,
    AttendancePattern,
    ExplicitDates,
    PartnershipAgreement,
    UniversalPromise,
    Weekly,
)
from services.booking.domain.model import (
    DEFAULT_SESSION_TYPES,
    LONGEST_SESSION_MINUTES,
    SessionType,
    SessionTypeConfig,
)
from shared.uow import UnitOfWork

ACADEMIC_YEAR = r"^\d{4}/\d{2}$"


def academic_year_of(day: date) -> str:
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def academic_year_bounds(academic_year: str) -> tuple[date, date]:
    first = int(academic_year[:4])
    return date(first, 9, 1), date(first + 1, 8, 31)


class _Terms(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionTypeTerms(_Terms):
    length_minutes: int = Field(ge=5, le=LONGEST_SESSION_MINUTES)
    capacity: int = Field(default=1, ge=1, le=200)
    buffer_minutes: int = Field(default=0, ge=0, le=60)


class AttendanceTerms(_Terms):
    """One adviser's days: weekly weekdays, alternate weeks from a date, or named dates."""

    adviser_id: str = Field(min_length=1, max_length=36)
    weekdays: list[int] = Field(default_factory=list)
    alternate_from: date | None = None
    dates: list[date] = Field(default_factory=list)
    session_types: list[SessionType] = Field(default_factory=lambda: [SessionType.INTERVIEW])
    start: time | None = None
    end: time | None = None
    room: str | None = Field(default=None, max_length=200)
    after_hours: bool = False

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(not 0 <= d <= 4 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 4 (Friday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _one_pattern(self) -> AttendanceTerms:
        if bool(self.weekdays) == bool(self.dates):
            raise ValueError("give either weekdays or dates")
        if self.alternate_from is not None and not self.weekdays:
            raise ValueError("alternate_from needs weekdays")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.session_types:
            raise ValueError("offer at least one session type")
        return self

    def pattern(self) -> AttendancePattern:
        if self.dates:
            return ExplicitDates(frozenset(self.dates))
        if self.alternate_from is not None:
            return AlternateWeeks(self.alternate_from, frozenset(self.weekdays))
        return Weekly(frozenset(self.weekdays))


class PromiseTerms(_Terms):
    year_groups: list[int] = Field(min_length=1)
    by: date
    session_type: SessionType = SessionType.INTERVIEW

    @field_validator("year_groups")
    @classmethod
    def _years(cls, value: list[int]) -> list[int]:
        if any(not 7 <= y <= 13 for y in value):
            raise ValueError("year groups are 7 to 13")
        return sorted(set(value))


def _default_session_types() -> dict[SessionType, SessionTypeTerms]:
    return {
        kind: SessionTypeTerms(
            length_minutes=c.length_minutes, capacity=c.capacity, buffer_minutes=c.buffer_minutes
        )
        for kind, c in DEFAULT_SESSION_TYPES.items()
    }


class AgreementTerms(_Terms):
    confidential_room: str = Field(min_length=1, max_length=200)
    attendances: list[AttendanceTerms] = Field(min_length=1)
    session_types: dict[SessionType, SessionTypeTerms] = Field(
        default_factory=_default_session_types
    )
    minimum_notice_minutes: int = Field(default=24 * 60, ge=0, le=60 * 24 * 30)
    horizon_days: int = Field(default=28, ge=1, le=400)
    priority_share: float = Field(default=0.3, ge=0, le=1)
    priority_release_hours: int = Field(default=48, ge=0, le=24 * 30)
    adviser_requests_allowed: bool = True
    promises: list[PromiseTerms] = Field(default_factory=list)

    def to_agreement(self, school_id: str, academic_year: str) -> PartnershipAgreement:
        return PartnershipAgreement(
            school_id=school_id,
            academic_year=academic_year,
            confidential_room=self.confidential_room,
            attendances=tuple(
                AdviserAttendance(
                    adviser_id=a.adviser_id,
                    pattern=a.pattern(),
                    session_types=frozenset(a.session_types),
                    start=a.start,
                    end=a.end,
                    room=a.room,
                    after_hours=a.after_hours,
                )
                for a in self.attendances
            ),
            session_types={
                kind: SessionTypeConfig(t.length_minutes, t.capacity, t.buffer_minutes)
                for kind, t in self.session_types.items()
            },
            minimum_notice=timedelta(minutes=self.minimum_notice_minutes),
            horizon=timedelta(days=self.horizon_days),
            priority_share=self.priority_share,
            priority_release=timedelta(hours=self.priority_release_hours),
            promises=tuple(
                UniversalPromise(frozenset(p.year_groups), p.by, p.session_type)
                for p in self.promises
            ),
            adviser_requests_allowed=self.adviser_requests_allowed,
        )


class UnknownAdvisers(Exception):
    def __init__(self, adviser_ids: list[str]) -> None:
        super().__init__(", ".join(adviser_ids))
        self.adviser_ids = adviser_ids


class UnknownSchool(Exception):
    pass


def agreement_values(school_id: str, academic_year: str, terms: AgreementTerms) -> dict[str, Any]:
    """The agreements row for the school's year, but its id: the terms and the year's bounds."""
    first, last = academic_year_bounds(academic_year)
    return {
        "school_id": school_id,
        "academic_year": academic_year,
        "first_day": first,
        "last_day": last,
        **terms.model_dump(mode="json"),
        "updated_at": datetime.now(UTC),
    }


async def save_agreement(
    uow: UnitOfWork, school_id: str, academic_year: str, terms: AgreementTerms
) -> PartnershipAgreement:
    """Replace the school's agreement for the year; every adviser must be in the directory."""
    s = uow.session
    if await s.scalar(sa.select(schools.c.id).where(schools.c.id == school_id)) is None:
        raise UnknownSchool(school_id)
    named = {a.adviser_id for a in terms.attendances}
    known = set(await s.scalars(sa.select(advisers.c.id).where(advisers.c.id.in_(sorted(named)))))
    if named - known:
        raise UnknownAdvisers(sorted(named - known))
    values = agreement_values(school_id, academic_year, terms)
    existing = await s.scalar(
        sa.select(agreements.c.id).where(
            agreements.c.school_id == school_id, agreements.c.academic_year == academic_year
        )
    )
    if existing is None:
        await s.execute(agreements.insert().values(id=str(uuid.uuid4()), **values))
    else:
        await s.execute(agreements.update().where(agreements.c.id == existing).values(**values))
    await uow.commit()
    invalidate(uow.session)  # reference data changed: drop what this process holds
    return terms.to_agreement(school_id, academic_year)


_TERM_FIELDS = tuple(AgreementTerms.model_fields)


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
