"""Vetting: health and safety checks and insurance that have lapsed or lapse soon."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from pydantic import BaseModel, Field

from services.placements.domain.vetting import vetting_warnings
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_query
from shared.http.openapi import ApiRoutes
from shared.http.problems import forbidden

routes = ApiRoutes(spec)


class WarningsQuery(Strict):
    days: int = Field(default=30, ge=0, le=365)


class VettingWarningOut(BaseModel):
    placement_id: str
    employer_id: str
    check: str
    expires: date
    expired: bool


class VettingWarningList(BaseModel):
    warnings: list[VettingWarningOut]


@routes.get(
    "/api/v1/vetting-warnings",
    summary="Health and safety checks and insurance lapsed or lapsing soon",
    query=WarningsQuery,
    responses={200: VettingWarningList},
    tags=("employers",),
)
async def warnings(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    query = read_query(request, WarningsQuery)
    if not principal.is_admin and principal.ebp_id is None:
        raise forbidden("Your account is not linked to a partnership.")
    async with placements_context(request).reads() as reads:
        entries = await reads.catalogue.entries(None if principal.is_admin else principal.ebp_id)
    catalogue = [entry.placement for entry in entries]
    found = vetting_warnings(catalogue, clock(request).date(), query.days)
    return json_response(
        VettingWarningList(
            warnings=[
                VettingWarningOut(
                    placement_id=w.placement_id,
                    employer_id=w.employer_id,
                    check=w.check.value,
                    expires=w.expires,
                    expired=w.expired,
                )
                for w in found
            ]
        )
    )
