"""Reports for a school: figures as JSON and the same figures as CSV; OpenAPI lists routes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from services.booking.application.agreements import PromiseTerms
from tests.integration.booking.test_lifecycle import booked, move_to
from tests.integration.booking.world import (
    SCHOOL_A,
    agreement_terms,
    first_free_morning,
    world,
)

PROMISE = agreement_terms(
    promises=[PromiseTerms(year_groups=[7], by=date.today() + timedelta(days=300))]
)


async def test_a_report_counts_interviews_no_shows_and_who_is_not_reached(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=PROMISE) as w:
        seen = await booked(w, student=0)  # year 7
        missed = await booked(w, 10, 20, student=1)  # year 8
        await booked(w, 11, student=7)  # year 7, still to come
        yesterday = datetime.now(UTC) - timedelta(days=1)
        for n, (appointment, came) in enumerate(((seen, True), (missed, False))):
            await move_to(w, appointment["id"], yesterday + timedelta(hours=n))
            marked = await w.client.post(
                f"/api/v1/appointments/{appointment['id']}/attendance",
                json={"attended": came},
                headers=w.adviser(appointment["adviser_id"]),
            )
            assert marked.status == 200
        span = {
            "from": (date.today() - timedelta(days=7)).isoformat(),
            "to": (first_free_morning() + timedelta(days=1)).isoformat(),
        }
        path = f"/api/v1/reports/schools/{SCHOOL_A}"

        report = await w.client.get(path, params=span, headers=w.coordinator())
        assert report.status == 200, await report.text()
        figures = (await report.json())["figures"]
        assert figures["interviews_by_year_group"] == {"7": 1}
        assert figures["no_show_rate"] == 0.5
        [promise] = figures["promises"]
        assert (promise["promised"], promise["seen"], promise["booked"]) == (2, 1, 1)
        assert promise["not_reached"] == 0

        exported = await w.client.get(
            path, params={**span, "format": "csv"}, headers=w.coordinator()
        )
        assert exported.content_type == "text/csv"
        table = list(csv.reader(io.StringIO(await exported.text())))
        assert table[0] == ["section", "key", "value"]
        assert ["no_show_rate", "", "0.5000"] in table

        backwards = await w.client.get(
            path, params={"from": span["to"], "to": span["from"]}, headers=w.coordinator()
        )
        assert backwards.status == 422


async def test_openapi_describes_the_public_paths(broker: str, tmp_path: Path) -> None:
    async with world(f"sqlite+aiosqlite:///{tmp_path}/o.db", broker, tmp_path) as w:
        spec = await (await w.client.get("/api/openapi.json")).json()
    for path in (
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/slots",
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/appointments/{appointment_id}/reschedule",
        "/api/v1/appointments/{appointment_id}/attendance",
        "/api/v1/waitlist",
        "/api/v1/dropins/{session_id}/queue",
    ):
        assert path in spec["paths"], path
