"""The waitlist with its time-limited offers, and the live drop-in queue."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.booking.application import dropins
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.ports import OfferRecord
from services.booking.application.waitlist import (
    DeclineOffer,
    JoinWaitlist,
    decline_offer,
    join_waitlist,
    offered,
)
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from services.booking.entrypoints.access import (
    STAFF_WHO_BOOK,
    acting_student,
    can_see_school,
    require_school_access,
)
from services.booking.entrypoints.appointments_api import (
    AppointmentResponse,
    appointment_response,
)
from services.booking.entrypoints.context import BookingContext, booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Principal, Role
from shared.auth.web import require
from shared.http.body import Day, Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes
from shared.http.problems import not_found

routes = ApiRoutes(spec)


class WaitlistRequest(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    session_type: SessionType = SessionType.INTERVIEW
    student_id: str | None = Field(default=None, max_length=36)
    first_day: Day | None = None
    last_day: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> WaitlistRequest:
        if (self.first_day is None) != (self.last_day is None):
            raise ValueError("give both first_day and last_day, or neither")
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        return self


class WaitlistResponse(BaseModel):
    id: str
    school_id: str
    student_id: str
    session_type: str


@routes.post(
    "/api/v1/waitlist",
    summary="Join the waitlist for a school and session type",
    request=WaitlistRequest,
    responses={201: WaitlistResponse, 404: "Problem", 409: "Problem", 422: "Problem"},
    tags=("waitlist",),
)
async def join(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    body = await read_model(request, WaitlistRequest)
    student_id = acting_student(principal, body.school_id, body.student_id)
    ctx = booking(request)
    cmd = JoinWaitlist(body.school_id, student_id, body.session_type, body.first_day, body.last_day)
    entry_id = await join_waitlist(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(
        WaitlistResponse(
            id=entry_id,
            school_id=body.school_id,
            student_id=student_id,
            session_type=body.session_type.value,
        ),
        status=201,
    )


class OfferResponse(BaseModel):
    id: str
    school_id: str
    session_type: str
    starts_at: datetime
    ends_at: datetime
    location: str
    expires_at: datetime


class OfferList(BaseModel):
    offers: list[OfferResponse]


def offer_response(offer: OfferRecord) -> OfferResponse:
    return OfferResponse(
        id=offer.id,
        school_id=offer.school_id,
        session_type=offer.session_type.value,
        starts_at=offer.interval.start,
        ends_at=offer.interval.end,
        location=offer.location,
        expires_at=offer.expires_at,
    )


@routes.get(
    "/api/v1/waitlist/offers",
    summary="My open waitlist offers",
    responses={200: OfferList},
    tags=("waitlist",),
)
async def my_offers(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    async with booking(request).reads() as reads:
        found = await reads.waitlist.open_offers_of(principal.user_id)
    return json_response(OfferList(offers=[offer_response(offer) for offer in found]))


@routes.post(
    "/api/v1/waitlist/offers/{offer_id}/accept",
    summary="Accept an offer: book it",
    responses={201: AppointmentResponse, 404: "Problem", 409: "Problem"},
    tags=("waitlist",),
)
async def accept(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    ctx = booking(request)
    async with ctx.reads() as reads:
        found = await reads.waitlist.open_offer(request.match_info["offer_id"], principal.user_id)
    offer = offered(found)
    cmd = BookSlot(
        offer.school_id,
        offer.session_type,
        offer.interval.start,
        principal.user_id,
        DomainRole.STUDENT,
    )
    booked = await book_slot(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(appointment_response(booked, principal), status=201)


@routes.post(
    "/api/v1/waitlist/offers/{offer_id}/decline",
    summary="Decline an offer: it passes to the next student",
    responses={204: "Declined"},
    tags=("waitlist",),
)
async def decline(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    ctx = booking(request)
    cmd = DeclineOffer(request.match_info["offer_id"], principal.user_id)
    await decline_offer(cmd, ctx.unit_of_work(), ctx.clock())
    return web.Response(status=204)


class DropInQuery(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    date: Day


class DropInSessionResponse(BaseModel):
    id: str
    school_id: str
    starts_at: datetime
    ends_at: datetime
    location: str


class DropInList(BaseModel):
    sessions: list[DropInSessionResponse]


@routes.get(
    "/api/v1/dropins",
    summary="A school's drop-in sessions on a date",
    query=DropInQuery,
    responses={200: DropInList},
    tags=("dropins",),
)
async def list_dropins(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    query = read_query(request, DropInQuery)
    require_school_access(principal, query.school_id)
    ctx = booking(request)
    async with ctx.reads() as reads:
        found = await dropins.planned(reads.schools, query.school_id, query.date)
        stored = await reads.dropins.stored([session.id for session in found])
    await dropins.store_sessions(found, stored, ctx.unit_of_work())
    return json_response(
        DropInList(sessions=[DropInSessionResponse.model_validate(x.__dict__) for x in found])
    )


class QueuePlaceResponse(BaseModel):
    session_id: str
    student_id: str
    status: str
    position: int | None
    estimated_wait_minutes: int | None


class QueueResponse(BaseModel):
    session_id: str
    waiting: list[QueuePlaceResponse]


def _place(place: dropins.QueuePlace) -> QueuePlaceResponse:
    wait = place.estimated_wait
    return QueuePlaceResponse(
        session_id=place.session.id,
        student_id=place.entry.student_id,
        status=place.entry.status.value,
        position=place.position,
        estimated_wait_minutes=round(wait.total_seconds() / 60) if wait is not None else None,
    )


async def _session_for(
    ctx: BookingContext, principal: Principal, session_id: str
) -> dropins.DropInSession:
    async with ctx.reads() as reads:
        session = await dropins.get_session(reads.dropins, session_id)
    if not can_see_school(principal, session.school_id):
        raise not_found("drop-in session")
    return session


@routes.post(
    "/api/v1/dropins/{session_id}/queue",
    summary="Join a live drop-in queue; answers my position and estimated wait",
    responses={201: QueuePlaceResponse, 404: "Problem", 409: "Problem"},
    tags=("dropins",),
)
async def join_queue(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    ctx = booking(request)
    session = await _session_for(ctx, principal, request.match_info["session_id"])
    cmd = dropins.JoinQueue(session.id, principal.user_id)
    place = await dropins.join_queue(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(_place(place), status=201)


@routes.get(
    "/api/v1/dropins/{session_id}/queue",
    summary="A student's place in the queue; staff see the whole queue",
    responses={200: QueueResponse, 404: "Problem"},
    tags=("dropins",),
)
async def read_queue(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    ctx = booking(request)
    session = await _session_for(ctx, principal, request.match_info["session_id"])
    async with ctx.reads() as reads:
        if principal.role is Role.STUDENT:
            place = await dropins.queue_place(reads.dropins, session.id, principal.user_id)
            return json_response(QueueResponse(session_id=session.id, waiting=[_place(place)]))
        _, queue = await dropins.queue_view(reads.dropins, session.id)
    waiting = [
        _place(
            dropins.QueuePlace(
                session, e, queue.position(e.student_id), queue.estimated_wait(e.student_id)
            )
        )
        for e in queue.waiting()
    ]
    return json_response(QueueResponse(session_id=session.id, waiting=waiting))


class CalledResponse(BaseModel):
    student_id: str | None


@routes.post(
    "/api/v1/dropins/{session_id}/queue/next",
    summary="The adviser calls the next student (who is told it is their turn)",
    responses={200: CalledResponse, 404: "Problem"},
    tags=("dropins",),
)
async def call_next(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER, Role.ADMIN)
    ctx = booking(request)
    session = await _session_for(ctx, principal, request.match_info["session_id"])
    adviser_id = principal.user_id if principal.role is Role.ADVISER else session.adviser_id
    cmd = dropins.CallNext(session.id, adviser_id)
    called = await dropins.call_next(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(CalledResponse(student_id=called.student_id if called else None))


@routes.post(
    r"/api/v1/dropins/{session_id}/queue/{student_id}/{outcome:complete|skip}",
    summary="Mark a called student as seen (`complete`) or as not come (`skip`)",
    responses={200: QueuePlaceResponse, 404: "Problem", 409: "Problem"},
    tags=("dropins",),
)
async def finish(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER, Role.ADMIN)
    ctx = booking(request)
    session = await _session_for(ctx, principal, request.match_info["session_id"])
    seen = request.match_info["outcome"] == "complete"
    cmd = dropins.FinishTurn(session.id, request.match_info["student_id"], seen)
    entry = await dropins.finish(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(_place(dropins.QueuePlace(session, entry, None, None)))
