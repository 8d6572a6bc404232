"""EBP staff's home: their partnership's employers and placements with vetting that has
lapsed or lapses soon, and the employers CSV import (the same import as the command line's:
a file with any mistake is refused whole, with every mistake by line and field)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from services.placements.application import employers as employer_cases
from services.placements.application.overview import catalogue_with_warnings
from services.placements.application.partnership_import import (
    ImportForPartnership,
    import_for_partnership,
)
from services.placements.entrypoints.context import placements_context
from services.placements.entrypoints.pages_common import EBP_NAV, ebp_staff, page
from shared.csvimport import CsvImportError, RowError
from shared.http.pages import LONDON

routes = web.RouteTableDef()

WARNING_DAYS = 30
CHECKS = {"health_and_safety": "Health and safety check", "insurance": "Insurance"}
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@routes.get("/placements/ebp")
async def ebp_home(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    ctx = placements_context(request)
    today = ctx.clock().astimezone(LONDON).date()
    assert principal.ebp_id is not None
    async with ctx.reads() as reads:
        catalogue = await catalogue_with_warnings(reads, principal.ebp_id, today, WARNING_DAYS)
    warned = [e for e in catalogue.employers if catalogue.warnings_of(e.id)]
    return page(
        request,
        "ebp_home.html",
        {
            "nav": EBP_NAV,
            "catalogue": catalogue,
            "warned": warned,
            "checks": CHECKS,
            "days": WARNING_DAYS,
            "today": today,
        },
    )


@routes.get("/placements/ebp/employers/import")
async def import_page(request: web.Request) -> web.Response:
    ebp_staff(request)
    return _render_import(request)


def _render_import(
    request: web.Request,
    *,
    errors: list[RowError] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    return page(
        request,
        "ebp_import.html",
        {
            "nav": EBP_NAV,
            "columns": employer_cases.COLUMNS,
            "row_errors": errors or [],
            "error": f"The file was not imported: {len(errors)} "
            f"{'problem' if len(errors) == 1 else 'problems'} to fix. Nothing was changed."
            if errors
            else None,
            "notice": notice,
        },
        status=status,
    )


@routes.post("/placements/ebp/employers/import")
async def import_employers(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    upload = (await request.post()).get("employers")
    if not isinstance(upload, FileField) or not upload.filename:
        return _render_import(
            request, errors=[RowError(1, "(file)", "choose a CSV file")], status=400
        )
    raw = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        return _render_import(
            request, errors=[RowError(1, "(file)", "the file is larger than 2 MB")], status=400
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _render_import(
            request, errors=[RowError(1, "(file)", "the file is not UTF-8 text")], status=400
        )
    try:
        rows = employer_cases.read_employers_file(text)
    except CsvImportError as exc:
        return _render_import(request, errors=exc.errors, status=422)
    assert principal.ebp_id is not None
    try:
        async with placements_context(request).unit_of_work() as uow:
            cmd = ImportForPartnership(rows, principal.ebp_id)
            summary = await import_for_partnership(cmd, uow)
    except CsvImportError as exc:
        return _render_import(request, errors=exc.errors, status=422)
    return _render_import(
        request,
        notice=f"The employers are imported: {len(rows)} rows, {summary.employers_added} "
        f"employers added and {summary.employers_updated} updated, {summary.placements_added} "
        f"placements added and {summary.placements_updated} updated, {summary.unchanged} "
        "unchanged.",
    )
