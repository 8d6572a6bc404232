"""Pages for a school's careers coordinator: the school's appointments by day and week,
the no-shows to chase, finding a student and booking a referral for them, and coverage
against the school's promises.

Lists name students by initials and year group; the full record is one click away. A search
shows the names the coordinator searched for.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from services.booking.application.agreements import academic_year_bounds, academic_year_of
from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.contact_alerts import DismissAlert, dismiss_alert
from services.booking.application.ports import StudentLabel
from services.booking.application.reports import ReportPeriod, school_report
from services.booking.domain.appointments import Referral, Urgency
from services.booking.domain.errors import BookingError
from services.booking.domain.model import AppointmentStatus, SessionType
from services.booking.domain.model import Role as DomainRole
from services.booking.entrypoints.contact_alerts import Dismissal
from services.booking.entrypoints.context import BookingContext, booking
from services.booking.entrypoints.pages import period_of, signed_in
from services.booking.entrypoints.pages_charts import coverage_bar
from services.booking.entrypoints.pages_pa import SESSION_NAMES, STATUS_NAMES, listed
from shared.auth.principal import Principal, Role
from shared.http.body import Instant
from shared.http.pages import LONDON, render

routes = web.RouteTableDef()

COORDINATOR_NAV = [
    ("/coordinator", "Appointments"),
    ("/coordinator/students", "Find a student"),
    ("/coordinator/coverage", "Coverage"),
    ("/coordinator/roster", "Upload the roster"),
    ("/coordinator/agreement", "Partnership Agreement"),
]
URGENCIES = {
    Urgency.ROUTINE: "Routine",
    Urgency.SOON: "Soon (within two weeks)",
    Urgency.URGENT: "Urgent (as soon as possible)",
}
REFERRAL_DAYS = 28
NOTICES = {
    "referred": "The referral is booked. The student and the PA will be told.",
    "dismissed": (
        "The alert is dismissed and messages will try those details again. "
        "A new failure would bring it back."
    ),
}
ALERT_REASONS = {
    "invalid_address": "The number or address does not exist",
    "unsubscribed": "They asked not to get messages (STOP)",
    "unreachable": "Messages cannot get through",
}
WHOSE = {"student": "The student's", "parent": "A parent's"}
CHASE_DAYS = 28


def school_of(principal: Principal) -> str:
    """A coordinator acts for one school."""
    return next(iter(sorted(principal.school_ids)), "")


@routes.get("/coordinator")
async def coordinator_home(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    now = ctx.clock()
    period = period_of(request.query, now)
    school_id = school_of(principal)
    async with ctx.reads() as reads:
        school = await reads.schools.get(school_id)
        found = await reads.appointments.at_school(school_id, period.start, period.end)
        recent = await reads.appointments.at_school(
            school_id, now - timedelta(days=CHASE_DAYS), now
        )
        alerts = await reads.contact_alerts.of_school(school_id)
        alert_students = await reads.students.labels(
            [a.owner_id for a in alerts if a.owner_kind == "student"]
        )
    names = {school_id: school.name if school else ""}
    rows = await listed(ctx, sorted(found, key=lambda a: a.interval.start), names)
    chase = await listed(
        ctx,
        sorted(
            (a for a in recent if a.status is AppointmentStatus.NO_SHOW),
            key=lambda a: a.interval.start,
            reverse=True,
        ),
        names,
    )
    by_day = {
        day: [r for r in rows if r.appointment.interval.start.astimezone(LONDON).date() == day]
        for day in period.dates
    }
    return render(
        request,
        "coordinator_home.html",
        {
            "nav": COORDINATOR_NAV,
            "school_name": names[school_id],
            "period": period,
            "by_day": by_day,
            "chase": chase,
            "chase_days": CHASE_DAYS,
            "alerts": [(a, alert_students.get(a.owner_id)) for a in alerts],
            "alert_reasons": ALERT_REASONS,
            "whose": WHOSE,
            "sessions_names": SESSION_NAMES,
            "statuses": STATUS_NAMES,
            "notice": NOTICES.get(request.query.get("notice", "")),
        },
    )


@routes.post("/coordinator/contact-alerts/dismiss")
async def dismiss_contact_alert(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.COORDINATOR)
    form = await request.post()
    try:
        chosen = Dismissal.model_validate(
            {
                "school_id": school_of(principal),
                "owner_id": str(form.get("owner_id", "")),
                "route": int(str(form.get("route", ""))),
                "channel": str(form.get("channel", "")),
            }
        )
    except (ValueError, ValidationError):
        raise web.HTTPBadRequest(text="Choose an alert from the list.") from None
    cmd = DismissAlert(chosen.school_id, chosen.owner_id, chosen.route, chosen.channel)
    if not await dismiss_alert(cmd, booking(request).unit_of_work()):
        raise web.HTTPNotFound(text="That alert is no longer there.")
    raise web.HTTPSeeOther("/coordinator?notice=dismissed")


@routes.get("/coordinator/students")
async def find_student_page(request: web.Request) -> web.Response:
    signed_in(request, Role.COORDINATOR)
    return render(request, "coordinator_find.html", {"nav": COORDINATOR_NAV, "q": "", "found": []})


@routes.post("/coordinator/students")
async def find_student(request: web.Request) -> web.Response:
    """A search posts its words, so that no student's name is left in a URL."""
    principal = signed_in(request, Role.COORDINATOR)
    text = str((await request.post()).get("q", "")).strip()[:100]
    found: list[StudentLabel] = []
    if text:
        async with booking(request).reads() as reads:
            found = await reads.students.search(school_of(principal), text)
    return render(
        request,
        "coordinator_find.html",
        {"nav": COORDINATOR_NAV, "q": text, "found": found},
    )


async def _student_here(ctx: BookingContext, principal: Principal, student_id: str) -> StudentLabel:
    async with ctx.reads() as reads:
        label = (await reads.students.labels([student_id])).get(student_id)
    if label is None or label.school_id != school_of(principal):
        raise web.HTTPNotFound()
    return label


@routes.get("/coordinator/students/{student_id}/referral")
async def referral_page(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.COORDINATOR)
    return await _render_referral(request, principal)


async def _render_referral(
    request: web.Request,
    principal: Principal,
    *,
    reason: str = "",
    urgency: Urgency = Urgency.ROUTINE,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    student = await _student_here(ctx, principal, request.match_info["student_id"])
    now = ctx.clock()
    async with ctx.reads() as reads:
        school = await reads.schools.get(student.school_id)
        slots = (
            await find_slots(
                reads,
                school,
                SessionType.INTERVIEW,
                now,
                now + timedelta(days=REFERRAL_DAYS),
                now,
                student=await reads.students.get(student.id),
                staff=True,
            )
            if school is not None
            else []
        )
    days: dict[date, list[datetime]] = {}
    for slot in slots:
        days.setdefault(slot.start.astimezone(LONDON).date(), []).append(slot.start)
    return render(
        request,
        "coordinator_referral.html",
        {
            "nav": COORDINATOR_NAV,
            "student": student,
            "days": days,
            "reason": reason,
            "urgency": urgency,
            "urgencies": URGENCIES,
            "error": error,
        },
        status=status,
    )


class _ReferralForm(BaseModel):
    starts_at: Instant
    reason: str = Field(min_length=3, max_length=2000)
    urgency: Urgency


@routes.post("/coordinator/students/{student_id}/referral")
async def book_referral(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    student = await _student_here(ctx, principal, request.match_info["student_id"])
    form = await request.post()
    reason = str(form.get("reason", "")).strip()
    try:
        urgency = Urgency(str(form.get("urgency", "")))
    except ValueError:
        urgency = Urgency.ROUTINE
    try:
        chosen = _ReferralForm.model_validate(
            {"starts_at": form.get("starts_at"), "reason": reason, "urgency": urgency}
        )
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors()}
        message = (
            "Choose a time from the list."
            if "starts_at" in fields
            else "Write the reason for the referral (at least 3 characters)."
        )
        return await _render_referral(
            request, principal, reason=reason, urgency=urgency, error=message, status=400
        )
    cmd = BookSlot(
        school_id=student.school_id,
        session_type=SessionType.INTERVIEW,
        starts_at=chosen.starts_at,
        student_id=student.id,
        booked_by=DomainRole.COORDINATOR,
        referral=Referral(chosen.reason, chosen.urgency, None, DomainRole.COORDINATOR),
    )
    try:
        booked = await book_slot(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await _render_referral(
            request, principal, reason=reason, urgency=urgency, error=exc.message, status=409
        )
    day = booked.interval.start.astimezone(LONDON).date().isoformat()
    raise web.HTTPSeeOther(f"/coordinator?notice=referred&day={day}")


@routes.get("/coordinator/coverage")
async def coverage_page(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    school_id = school_of(principal)
    first, last = academic_year_bounds(academic_year_of(ctx.clock().astimezone(LONDON).date()))
    async with ctx.reads() as reads:
        report = await school_report(ReportPeriod(school_id, first, last), reads)
        if report is None:
            raise web.HTTPNotFound()
        promises = report.body["promises"]
        not_yet = {
            p["by"]: sorted(
                (await reads.students.labels(p["not_reached_ids"].split())).values(),
                key=lambda s: (s.year_group, s.initials),
            )
            for p in promises
        }
    return render(
        request,
        "coordinator_coverage.html",
        {
            "nav": COORDINATOR_NAV,
            "first": first,
            "last": last,
            "promises": [(p, coverage_bar(p), date.fromisoformat(p["by"])) for p in promises],
            "not_yet": not_yet,
            "by_year": report.body["interviews_by_year_group"],
            "by_priority": report.body["interviews_by_priority_group"],
        },
    )
