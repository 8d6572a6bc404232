"""Events booking publishes on `directory.events` so other services keep local copies.

They carry only what another service needs: ids, school, year group, contact routes and
consent for notifications, date of birth, priority flags and home postcode district (never the
full postcode or address) for placement matching. Names and reasons for referral never travel
on the bus. Each carries the record's `revision` (`shared.events.revision`); an erasure's is
one more than the student's last.
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.events.revision import RevisedPayload

HOME_DISTRICT = r"^[A-Za-z]{1,2}[0-9][0-9A-Za-z]?$"
"""A postcode district (outward code) such as ME14: never a full postcode."""


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class ContactRole(StrEnum):
    STUDENT = "student"
    PARENT = "parent"
    ADVISER = "adviser"
    STAFF = "staff"


class ContactRoute(BaseModel):
    """How one person may be reached, and what they consented to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: ContactRole
    phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    email: EmailStr | None = None
    sms_consent: bool = False
    email_consent: bool = False
    preferred: list[Channel] = Field(default_factory=list)


class ProviderUpserted(RevisedPayload):
    event_type = "directory.provider.upserted"

    provider_id: str
    name: str


class ConsortiumUpserted(RevisedPayload):
    event_type = "directory.consortium.upserted"

    consortium_id: str
    name: str
    provider_id: str | None = None


class SchoolUpserted(RevisedPayload):
    event_type = "directory.school.upserted"

    school_id: str
    name: str
    consortium_id: str | None = None
    time_zone: str = "Europe/London"
    day_starts: time
    day_ends: time
    postcode_district: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    lead_adviser_id: str | None = None
    coordinator_id: str | None = None


class StudentUpserted(RevisedPayload):
    event_type = "directory.student.upserted"

    student_id: str
    school_id: str
    year_group: int = Field(ge=7, le=13)
    date_of_birth: date | None = None
    home_district: str | None = Field(default=None, pattern=HOME_DISTRICT)
    disadvantaged: bool = False
    sen: bool = False
    contacts: list[ContactRoute] = Field(default_factory=list)
    coordinator_id: str | None = None


class ContactChecked(RevisedPayload):
    """The school has checked a contact route that notifications reported undeliverable (and
    its staff dismissed the alert): the route is to be tried again. It names the route by the
    number notifications reported it with."""

    event_type = "directory.contact.checked"

    owner_id: str
    route: int = Field(ge=0)
    channel: Channel


class StudentErased(RevisedPayload):
    """The student's record was erased: every copy must go too."""

    event_type = "directory.student.erased"

    student_id: str
    school_id: str


class AdviserUpserted(RevisedPayload):
    event_type = "directory.adviser.upserted"

    adviser_id: str
    school_ids: list[str]
    contacts: list[ContactRoute] = Field(default_factory=list)


class StaffUpserted(RevisedPayload):
    event_type = "directory.staff.upserted"

    staff_id: str
    role: str
    school_ids: list[str]
    contacts: list[ContactRoute] = Field(default_factory=list)
