"""Reading the directory, and the Partnership Agreements providers set per school and year."""

from __future__ import annotations

from datetime import time, timedelta

from aiohttp import web
from pydantic import BaseModel

from services.booking.application.agreements import (
    AgreementTerms,
    SaveAgreement,
    UnknownAdvisers,
    UnknownSchool,
    save_agreement,
)
from services.booking.application.erasure import EraseStudent, erase_student
from services.booking.entrypoints.access import (
    can_see_school,
    domain_role,
    require_school_access,
    sees_sensitive,
    unknown_advisers,
)
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require, require_school
from shared.http.body import Day, json_response, read_model
from shared.http.openapi import ApiRoutes
from shared.http.problems import not_found
from shared.logging import get_logger

log = get_logger(__name__)
routes = ApiRoutes(spec)
YEAR_IN_PATH = r"{academic_year:\d{4}-\d{2}}"


class RoomResponse(BaseModel):
    name: str
    confidential: bool


class PeriodResponse(BaseModel):
    kind: str
    first_day: Day
    last_day: Day
    starts: time | None
    ends: time | None


class SchoolResponse(BaseModel):
    id: str
    name: str
    consortium_id: str | None
    time_zone: str
    day_starts: time
    day_ends: time
    lead_adviser_id: str | None
    coordinator_id: str | None
    rooms: list[RoomResponse] | None = None
    periods: list[PeriodResponse] | None = None


class SchoolList(BaseModel):
    schools: list[SchoolResponse]


@routes.get(
    "/api/v1/schools",
    summary="The schools I act for",
    responses={200: SchoolList},
    tags=("directory",),
)
async def list_schools(request: web.Request) -> web.Response:
    principal = require(request)
    async with booking(request).reads() as reads:
        rows = await reads.listing.schools(None if principal.is_admin else principal.school_ids)
    return json_response(SchoolList(schools=[SchoolResponse.model_validate(r) for r in rows]))


@routes.get(
    "/api/v1/schools/{school_id}",
    summary="A school, its rooms and its calendar",
    responses={200: SchoolResponse, 403: "Problem", 404: "Problem"},
    tags=("directory",),
)
async def read_school(request: web.Request) -> web.Response:
    principal = require(request)
    school_id = request.match_info["school_id"]
    require_school(principal, school_id)
    async with booking(request).reads() as reads:
        found = await reads.listing.school(school_id)
    if found is None:
        raise not_found("school")
    school = SchoolResponse.model_validate(found)
    return json_response(school)


class StudentResponse(BaseModel):
    id: str
    school_id: str
    year_group: int
    display_name: str | None
    priority_flags: list[str] | None = None


@routes.get(
    "/api/v1/students/{student_id}",
    summary="A student (priority flags only for the staff who act on them)",
    responses={200: StudentResponse, 404: "Problem"},
    tags=("directory",),
)
async def read_student(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, Role.ADVISER, Role.COORDINATOR, Role.ADMIN)
    student_id = request.match_info["student_id"]
    async with booking(request).reads() as reads:
        row = await reads.listing.student(student_id)
    if row is None or not principal.sees_guidance_of(row["school_id"], row["id"]):
        raise not_found("student")
    return json_response(
        StudentResponse(
            id=row["id"],
            school_id=row["school_id"],
            year_group=row["year_group"],
            display_name=row["display_name"],
            priority_flags=list(row["priority_flags"]) if sees_sensitive(principal) else None,
        )
    )


class ErasureResponse(BaseModel):
    student_id: str
    cancelled_appointments: int
    kept_anonymously: int


@routes.delete(
    "/api/v1/students/{student_id}",
    summary="Erase a student's record (coordinators of the school, admins): upcoming "
    "appointments are cancelled, past ones kept only anonymously, every copy told to go",
    responses={200: ErasureResponse, 403: "Problem", 404: "Problem"},
    tags=("directory",),
)
async def delete_student(request: web.Request) -> web.Response:
    principal = require(request, Role.COORDINATOR, Role.ADMIN)
    student_id = request.match_info["student_id"]
    ctx = booking(request)
    async with ctx.unit_of_work() as uow:
        school_id = await uow.directory.school_of_student(student_id)
        if school_id is None or not can_see_school(principal, school_id):
            raise not_found("student")
        erased = await erase_student(
            EraseStudent(student_id, domain_role(principal)),
            uow,
            ctx.clock(),
            ctx.offer_ttl,
            token_ttl=timedelta(seconds=ctx.settings.token_ttl_seconds),
        )
    log.info(
        "directory.student_erased",
        student_id=student_id,
        school_id=erased.school_id,
        by=principal.user_id,
        role=principal.role.value,
    )
    return json_response(
        ErasureResponse(
            student_id=student_id,
            cancelled_appointments=erased.cancelled_appointments,
            kept_anonymously=erased.kept_anonymously,
        )
    )


def _year(request: web.Request) -> str:
    return request.match_info["academic_year"].replace("-", "/")


@routes.put(
    f"/api/v1/schools/{{school_id}}/agreements/{YEAR_IN_PATH}",
    summary="Set the school's Partnership Agreement for an academic year (e.g. 2026-27)",
    request=AgreementTerms,
    responses={200: AgreementTerms, 403: "Problem", 404: "Problem", 422: "Problem"},
    tags=("agreements",),
)
async def put_agreement(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    terms = await read_model(request, AgreementTerms)
    ctx = booking(request)
    try:
        async with ctx.unit_of_work() as uow:
            cmd = SaveAgreement(request.match_info["school_id"], _year(request), terms)
            await save_agreement(cmd, uow, ctx.clock())
    except UnknownSchool as exc:
        raise not_found("school") from exc
    except UnknownAdvisers as exc:
        raise unknown_advisers(exc) from exc
    return json_response(terms)


@routes.get(
    f"/api/v1/schools/{{school_id}}/agreements/{YEAR_IN_PATH}",
    summary="The school's Partnership Agreement for an academic year",
    responses={200: AgreementTerms, 403: "Problem", 404: "Problem"},
    tags=("agreements",),
)
async def get_agreement(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER, Role.COORDINATOR, Role.ADMIN)
    school_id = request.match_info["school_id"]
    require_school_access(principal, school_id)
    async with booking(request).reads() as reads:
        terms = await reads.agreements.terms(school_id, _year(request))
    if terms is None:
        raise not_found("agreement")
    return json_response(terms)
