"""A coordinator's school pages: upload the student roster, and read the Partnership
Agreement as agreed.

The roster goes through the directory import the command line uses: the whole file is
refused if any row is wrong, and every fault is shown by line and field.
"""

from __future__ import annotations

import csv
import io

from aiohttp import web
from aiohttp.web_request import FileField

from services.booking.application.agreements import academic_year_of
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.application.directory_rows import StudentRow
from services.booking.domain.agreement import (
    AdviserAttendance,
    AlternateWeeks,
    ExplicitDates,
    Weekly,
)
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.pages import signed_in
from services.booking.entrypoints.pages_coordinator import COORDINATOR_NAV, school_of
from services.booking.entrypoints.pages_pa import SESSION_NAMES
from shared.auth.principal import Role
from shared.csvimport import CsvImportError, RowError, parse_csv
from shared.http.pages import LONDON, local_day, render

routes = web.RouteTableDef()

WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
ROSTER_COLUMNS = "school_id, reference, year_group (7 to 13)"


@routes.get("/coordinator/roster")
async def roster_page(request: web.Request) -> web.Response:
    signed_in(request, Role.COORDINATOR)
    return _render_roster(request)


def _render_roster(
    request: web.Request,
    *,
    errors: list[RowError] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "coordinator_roster.html",
        {
            "nav": COORDINATOR_NAV,
            "columns": ROSTER_COLUMNS,
            "row_errors": errors or [],
            "error": f"The file was not loaded: {len(errors)} "
            f"{'problem' if len(errors) == 1 else 'problems'} to fix. Nothing was changed."
            if errors
            else None,
            "notice": notice,
        },
        status=status,
    )


@routes.post("/coordinator/roster")
async def upload_roster(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    school_id = school_of(principal)
    upload = (await request.post()).get("roster")
    if not isinstance(upload, FileField) or not upload.filename:
        return _render_roster(
            request, errors=[RowError(1, "(file)", "choose a CSV file")], status=400
        )
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _render_roster(
            request, errors=[RowError(1, "(file)", "the file is not UTF-8 text")], status=400
        )
    elsewhere = _other_schools(text, school_id)
    try:
        rows = parse_csv(text, StudentRow, unique=KINDS["students"].unique)
    except CsvImportError as exc:
        faults = sorted([*exc.errors, *elsewhere], key=lambda e: e.line)
        return _render_roster(request, errors=faults, status=422)
    try:
        if elsewhere:
            raise CsvImportError(elsewhere)
        async with ctx.unit_of_work() as uow:
            result = await import_directory(ImportDirectory("students", rows), uow, ctx.clock())
    except CsvImportError as exc:
        return _render_roster(request, errors=exc.errors, status=422)
    return _render_roster(
        request,
        notice=f"The roster is loaded: {result.rows} students, {result.written} added or "
        f"changed, {result.unchanged} unchanged.",
    )


def _other_schools(text: str, school_id: str) -> list[RowError]:
    """Rows for another school, found beside the file's other faults so all show at once."""
    reader = csv.DictReader(io.StringIO(text))
    return [
        RowError(reader.line_num, "school_id", "is not your school: upload your own students only")
        for record in reader
        if (record.get("school_id") or "").strip() not in ("", school_id)
    ]


def _pattern(attendance: AdviserAttendance) -> str:
    pattern = attendance.pattern
    if isinstance(pattern, ExplicitDates):
        return ", ".join(local_day(day) for day in sorted(pattern.dates))
    days = " and ".join(WEEKDAYS[n] for n in sorted(pattern.weekdays))
    if isinstance(pattern, AlternateWeeks):
        return f"Alternate {days.lower()} from {local_day(pattern.anchor)}"
    assert isinstance(pattern, Weekly)
    return days


@routes.get("/coordinator/agreement")
async def agreement_page(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    school_id = school_of(principal)
    today = ctx.clock().astimezone(LONDON).date()
    async with ctx.reads() as reads:
        school = await reads.schools.get(school_id)
        agreement = await reads.schools.agreement(school_id, today)
        advisers = await reads.directory.stored(
            "advisers", {a.adviser_id for a in agreement.attendances} if agreement else set()
        )
    return render(
        request,
        "coordinator_agreement.html",
        {
            "nav": COORDINATOR_NAV,
            "school_name": school.name if school else "",
            "year": academic_year_of(today),
            "agreement": agreement,
            "sessions_names": SESSION_NAMES,
            "attendances": [
                (
                    advisers.get(a.adviser_id, {}).get("display_name", "A PA"),
                    _pattern(a),
                    a,
                    ", ".join(SESSION_NAMES.get(t.value, t.value) for t in sorted(a.session_types)),
                )
                for a in (agreement.attendances if agreement else ())
            ],
        },
    )
