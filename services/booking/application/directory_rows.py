"""The directory's CSV rows, one schema per kind, and the stable ids named by their keys."""

from __future__ import annotations

import uuid
from datetime import date, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from services.booking.domain.model import AdviserKind, PriorityFlag
from shared.events.directory import HOME_DISTRICT, Channel

NAMESPACE = uuid.UUID("3d0d7f0e-3c1a-4f43-9d7e-0b6f2f5a9c11")
PHONE = r"^\+[1-9]\d{6,14}$"


def natural_id(kind: str, *key: object) -> str:
    """The stable id of a record named by its natural key (same row, same id, every import)."""
    return str(uuid.uuid5(NAMESPACE, "|".join([kind, *(str(k) for k in key)])))


def _split(value: object) -> object:
    """CSV cells hold lists as `a;b;c`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


class DirectoryRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProviderRow(DirectoryRow):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)


class ConsortiumRow(DirectoryRow):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    provider_id: str | None = Field(default=None, max_length=36)


class SchoolRow(DirectoryRow):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    consortium_id: str | None = Field(default=None, max_length=36)
    time_zone: str = "Europe/London"
    day_starts: time = time(8, 30)
    day_ends: time = time(15, 30)
    postcode_district: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}\d[A-Z\d]?$")

    @model_validator(mode="after")
    def _day_in_order(self) -> SchoolRow:
        if self.day_ends <= self.day_starts:
            raise ValueError("day_ends must be after day_starts")
        if self.time_zone != "Europe/London":
            raise ValueError("schools in England use the Europe/London time zone")
        return self


class PeriodKind(StrEnum):
    TERM = "term"
    HOLIDAY = "holiday"
    EXAM = "exam"
    BLOCKED = "blocked"


class PeriodRow(DirectoryRow):
    school_id: str = Field(min_length=1, max_length=36)
    kind: PeriodKind
    first_day: date
    last_day: date
    starts: time | None = None
    ends: time | None = None

    @model_validator(mode="after")
    def _in_order(self) -> PeriodRow:
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        if (self.starts is None) != (self.ends is None):
            raise ValueError("give both starts and ends for a part-day period, or neither")
        if self.starts is not None and self.kind in (PeriodKind.TERM, PeriodKind.HOLIDAY):
            raise ValueError("only exam and blocked periods can be part days")
        return self


class RoomRow(DirectoryRow):
    school_id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    confidential: bool = False


class AdviserRow(DirectoryRow):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    kinds: list[AdviserKind] = Field(min_length=1)
    email: EmailStr
    phone: str | None = Field(default=None, pattern=PHONE)
    provider_id: str | None = Field(default=None, max_length=36)
    schools: list[str] = Field(default_factory=list)
    lead_for: list[str] = Field(default_factory=list)

    _lists = field_validator("kinds", "schools", "lead_for", mode="before")(_split)

    @model_validator(mode="after")
    def _leads_where_serving(self) -> AdviserRow:
        if not set(self.lead_for) <= set(self.schools):
            raise ValueError("an adviser can be lead PA only at a school they serve")
        return self


class StudentRow(DirectoryRow):
    school_id: str = Field(min_length=1, max_length=36)
    reference: str = Field(min_length=1, max_length=40)
    year_group: int = Field(ge=7, le=13)
    display_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    home_district: str | None = Field(
        default=None, pattern=HOME_DISTRICT, description="postcode district only, e.g. ME14"
    )
    priority_flags: list[PriorityFlag] = Field(default_factory=list)
    disadvantaged: bool = False
    student_email: EmailStr | None = None
    student_phone: str | None = Field(default=None, pattern=PHONE)
    student_sms_consent: bool = False
    student_email_consent: bool = False
    student_preferred: list[Channel] = Field(default_factory=list)
    parent_email: EmailStr | None = None
    parent_phone: str | None = Field(default=None, pattern=PHONE)
    parent_sms_consent: bool = False
    parent_email_consent: bool = False
    parent_preferred: list[Channel] = Field(default_factory=list)

    _lists = field_validator(
        "priority_flags", "student_preferred", "parent_preferred", mode="before"
    )(_split)


class StaffRole(StrEnum):
    COORDINATOR = "coordinator"
    EBP = "ebp"
    ADMIN = "admin"


class StaffRow(DirectoryRow):
    email: EmailStr
    role: StaffRole
    name: str = Field(min_length=1, max_length=200)
    schools: list[str] = Field(default_factory=list)
    phone: str | None = Field(default=None, pattern=PHONE)
    ebp_id: str | None = Field(default=None, max_length=36)

    _lists = field_validator("schools", mode="before")(_split)

    @model_validator(mode="after")
    def _schools_for_role(self) -> StaffRow:
        if self.role is StaffRole.COORDINATOR and len(self.schools) != 1:
            raise ValueError("a coordinator acts for exactly one school")
        return self
