"""Partnership Agreements: stored as their terms, read back as the domain's agreement.

The terms are one document per school and academic year (`2026/27` runs from 1 September
to 31 August), replaced as a whole when the provider revises it, because agreements are
negotiated and signed as a whole too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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

if TYPE_CHECKING:
    from services.booking.application.ports import AgreementUnit

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


def agreement_values(
    school_id: str, academic_year: str, terms: AgreementTerms, now: datetime
) -> dict[str, Any]:
    """The agreements row for the school's year, but its id: the terms and the year's bounds."""
    first, last = academic_year_bounds(academic_year)
    return {
        "school_id": school_id,
        "academic_year": academic_year,
        "first_day": first,
        "last_day": last,
        **terms.model_dump(mode="json"),
        "updated_at": now,
    }


@dataclass(frozen=True)
class SaveAgreement:
    school_id: str
    academic_year: str
    terms: AgreementTerms


async def save_agreement(
    cmd: SaveAgreement, uow: AgreementUnit, now: datetime
) -> PartnershipAgreement:
    """Replace the school's agreement for the year, and commit; every adviser it names must
    be in the directory."""
    if not await uow.directory.existing_ids("schools", {cmd.school_id}):
        raise UnknownSchool(cmd.school_id)
    named = {a.adviser_id for a in cmd.terms.attendances}
    known = await uow.directory.existing_ids("advisers", named)
    if named - known:
        raise UnknownAdvisers(sorted(named - known))
    await uow.agreements.save(agreement_values(cmd.school_id, cmd.academic_year, cmd.terms, now))
    await uow.commit()
    uow.reference_changed()
    return cmd.terms.to_agreement(cmd.school_id, cmd.academic_year)
