"""What staff pages read as JSON: appointments over a date range (an adviser's, or a
school's), and a search for a school's students.

The same rules as the pages: an adviser lists their own diary and the schools they serve, a
coordinator their school, an admin everything; students and EBP staff are refused. Lists
carry no names; a search names students only to coordinators and admins.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.booking.application.ports import StudentLabel
from services.booking.domain.appointments import Appointment
from services.booking.domain.model import LONDON
from services.booking.entrypoints.access import (
    STAFF_WHO_BOOK,
    can_see_appointment,
    require_school_access,
)
from services.booking.entrypoints.appointments_api import AppointmentResponse, appointment_response
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Principal, Role
from shared.auth.web import require
from shared.http.body import Day, Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes
from shared.http.problems import forbidden

routes = ApiRoutes(spec)
MAX_DAYS = 62
NAMES_FOR = (Role.COORDINATOR, Role.ADMIN)


class AppointmentsQuery(Strict):
    adviser_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="an adviser's diary, any school"
    )
    school_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="a school's appointments"
    )
    from_: Day = Field(alias="from", description="first local (UK) date, included")
    to: Day = Field(description="last local (UK) date, included")

    @model_validator(mode="after")
    def _one_range(self) -> AppointmentsQuery:
        if (self.adviser_id is None) == (self.school_id is None):
            raise ValueError("give exactly one of adviser_id and school_id")
        if self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        if (self.to - self.from_).days >= MAX_DAYS:
            raise ValueError(f"ask for at most {MAX_DAYS} days at a time")
        return self

    @property
    def start(self) -> datetime:
        return datetime.combine(self.from_, time(0), LONDON)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.to + timedelta(days=1), time(0), LONDON)


class AppointmentList(BaseModel):
    appointments: list[AppointmentResponse]


@routes.get(
    "/api/v1/appointments",
    summary="Appointments starting on local dates from-to: an adviser's diary or a school's",
    query=AppointmentsQuery,
    responses={200: AppointmentList},
    tags=("appointments",),
)
async def list_appointments(request: web.Request) -> web.Response:
    principal = require(request, *STAFF_WHO_BOOK)
    query = read_query(request, AppointmentsQuery)
    async with booking(request).reads() as reads:
        if query.school_id is not None:
            require_school_access(principal, query.school_id)
            found = await reads.appointments.at_school(query.school_id, query.start, query.end)
        else:
            adviser_id = query.adviser_id or ""
            if principal.role is Role.ADVISER and adviser_id != principal.user_id:
                raise forbidden("An adviser can list only their own diary.")
            found = await reads.appointments.of_adviser(adviser_id, query.start, query.end)
    return json_response(AppointmentList(appointments=_visible(principal, found)))


def _visible(principal: Principal, found: list[Appointment]) -> list[AppointmentResponse]:
    shown = [a for a in found if can_see_appointment(principal, a)]
    ordered = sorted(shown, key=lambda a: (a.interval.start, a.id))
    return [appointment_response(a, principal) for a in ordered]


class StudentSearch(Strict):
    text: str = Field(min_length=2, max_length=100, description="part of a name or reference")


class FoundStudent(BaseModel):
    id: str
    school_id: str
    year_group: int
    initials: str
    display_name: str | None = Field(description="only for coordinators and admins")
    reference: str | None


class FoundStudents(BaseModel):
    students: list[FoundStudent]


@routes.post(
    "/api/v1/schools/{school_id}/students/search",
    summary=(
        "Find a school's students by part of a name or reference (posted, so no name is left"
        " in a URL or log); names for coordinators and admins, initials for advisers"
    ),
    request=StudentSearch,
    responses={200: FoundStudents},
    tags=("directory",),
)
async def search_students(request: web.Request) -> web.Response:
    principal = require(request, *STAFF_WHO_BOOK)
    school_id = request.match_info["school_id"]
    require_school_access(principal, school_id)
    body = await read_model(request, StudentSearch)
    async with booking(request).reads() as reads:
        found = await reads.students.search(school_id, body.text.strip())
    named = principal.role in NAMES_FOR
    return json_response(FoundStudents(students=[_found(s, named) for s in found]))


def _found(label: StudentLabel, named: bool) -> FoundStudent:
    return FoundStudent(
        id=label.id,
        school_id=label.school_id,
        year_group=label.year_group,
        initials=label.initials,
        display_name=label.display_name if named else None,
        reference=label.reference,
    )
