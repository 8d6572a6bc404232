"""Reports for coordinators (their school) and the provider (every school), as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.booking.application.reports import ReportPeriod, school_report
from services.booking.entrypoints.access import require_school_access
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Day, Strict, json_response, read_query
from shared.http.openapi import ApiRoutes
from shared.http.problems import not_found

routes = ApiRoutes(spec)


class ReportQuery(Strict):
    from_: Day = Field(alias="from")
    to: Day
    format: Literal["json", "csv"] = "json"

    @model_validator(mode="after")
    def _range(self) -> ReportQuery:
        if self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        if (self.to - self.from_).days > 400:
            raise ValueError("report on at most 400 days at a time")
        return self


class ReportResponse(BaseModel):
    school_id: str
    from_: date = Field(serialization_alias="from")
    to: date
    figures: dict[str, Any]


@routes.get(
    "/api/v1/reports/schools/{school_id}",
    summary="Interviews by year and priority group, promise coverage, PA time, no-shows, "
    "waitlist (format=csv for a spreadsheet)",
    query=ReportQuery,
    responses={200: ReportResponse, 403: "Problem", 404: "Problem"},
    tags=("reports",),
    also_served_as=("text/csv",),
)
async def report(request: web.Request) -> web.StreamResponse:
    principal = require(request, Role.COORDINATOR, Role.ADMIN)
    school_id = request.match_info["school_id"]
    require_school_access(principal, school_id)
    query = read_query(request, ReportQuery)
    async with booking(request).reads() as reads:
        found = await school_report(ReportPeriod(school_id, query.from_, query.to), reads)
    if found is None:
        raise not_found("school")
    if query.format == "csv":
        return web.Response(
            text=found.csv(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="report-{school_id}.csv"'},
        )
    return json_response(
        ReportResponse(
            school_id=school_id, from_=query.from_, to=query.to, figures=found.body
        ).model_dump(mode="json", by_alias=True)
    )
