"""Who may read or change a round, checked inside the transaction that relies on it.

A round the caller has no part in answers 404, so that other partnerships' rounds are not
revealed; a student names themselves as `me`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from services.placements.adapters.uow import PlacementsReads, PlacementsUnitOfWork
from services.placements.application.access import RoundAccess, round_access
from services.placements.application.ports import PlacementsRepositories
from services.placements.entrypoints.context import placements_context
from shared.auth.principal import Principal, Role
from shared.http.problems import Problem

ME = "me"


async def round_access_for(
    repositories: PlacementsRepositories,
    request: web.Request,
    principal: Principal,
    *,
    for_update: bool = False,
) -> RoundAccess:
    round_id = request.match_info["round_id"]
    record = await repositories.rounds.get(round_id, for_update=for_update)
    return round_access(principal, record)


@asynccontextmanager
async def reading_round(
    request: web.Request, principal: Principal, *, manager: bool = False
) -> AsyncIterator[tuple[PlacementsReads, RoundAccess]]:
    """A read transaction, and the caller's access to the path's round as it reads there."""
    async with placements_context(request).reads() as reads:
        access = await round_access_for(reads, request, principal)
        if manager:
            access.require_manager()
        yield reads, access


@asynccontextmanager
async def changing_round(
    request: web.Request, principal: Principal, *, manager: bool = True
) -> AsyncIterator[tuple[PlacementsUnitOfWork, RoundAccess]]:
    """A unit of work, and the caller's access to the path's round, read (and locked) in it.

    Checks on the round's state (published yet? deadline passed?) are then made on the row
    this transaction writes against. Read the request body before: nothing waits on the
    client while the round is locked.
    """
    async with placements_context(request).unit_of_work() as uow:
        access = await round_access_for(uow, request, principal, for_update=True)
        if manager:
            access.require_manager()
        yield uow, access


def student_id_in_path(request: web.Request, principal: Principal) -> str:
    student_id = request.match_info["student_id"]
    if student_id == ME:
        if principal.role is not Role.STUDENT:
            raise Problem(
                404, "Not found", "Only students have their own preferences.", type_="not-found"
            )
        return principal.user_id
    return student_id
