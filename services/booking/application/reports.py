"""Reports for coordinators and the provider, over a school's local dates `first`..`last`.

Figures come from the domain's report functions; this module only gathers the rows. The
coverage list names students by id, never by name, so an export can be shared safely with
the provider and joined to the school's own records inside the school.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.booking.application.availability import agreements_between
from services.booking.application.ports import ReportReads
from services.booking.domain.reports import (
    adviser_minutes,
    interviews_by_priority_group,
    interviews_by_year_group,
    no_show_rate,
    promise_coverage,
    waitlist_lengths,
)


@dataclass(frozen=True)
class SchoolReport:
    school_id: str
    first: date
    last: date
    body: dict[str, Any]

    def csv(self) -> str:
        """One row per figure: section, key, value (flat, so a spreadsheet opens it as is)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", "key", "value"])
        for section, value in self.body.items():
            if isinstance(value, dict):
                for key, item in value.items():
                    writer.writerow([section, key, _cell(item)])
            elif isinstance(value, list):
                for n, item in enumerate(value, start=1):
                    writer.writerow([section, n, _cell(item)])
            else:
                writer.writerow([section, "", _cell(value)])
        return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ReportPeriod:
    school_id: str
    first: date
    last: date


async def school_report(query: ReportPeriod, reads: ReportReads) -> SchoolReport | None:
    school_id, first, last = query.school_id, query.first, query.last
    school = await reads.schools.get(school_id)
    if school is None:
        return None
    start = school.calendar.whole_day(first).start
    end = school.calendar.whole_day(last).end
    booked = await reads.appointments.at_school(school_id, start, end)
    roll = {student.student_id: student for student in await reads.students.of_school(school_id)}
    waiting = await reads.waitlist.waiting_at(school_id)
    agreed: dict[str, int] = {}
    promises = []
    for agreement in await agreements_between(reads.schools, school_id, first, last):
        for adviser_id in agreement.adviser_ids:
            agreed[adviser_id] = agreed.get(adviser_id, 0) + agreement.agreed_minutes(
                adviser_id, first, last, school.calendar
            )
        promises += list(agreement.promises)
    rate = no_show_rate(booked)
    body: dict[str, Any] = {
        "interviews_by_year_group": {
            str(k): v for k, v in interviews_by_year_group(booked, roll).items()
        },
        "interviews_by_priority_group": {
            (k.value if k else "open"): v
            for k, v in interviews_by_priority_group(booked, roll).items()
        },
        "adviser_minutes": {
            k: {"used": v.used, "agreed": v.agreed}
            for k, v in adviser_minutes(booked, agreed).items()
        },
        "no_show_rate": rate,
        "waitlist_length": {k.value: v for k, v in waitlist_lengths(waiting).items()},
        "promises": [],
    }
    for promise in promises:
        coverage = promise_coverage(promise, roll.values(), booked)
        body["promises"].append(
            {
                "year_groups": ",".join(str(y) for y in sorted(promise.year_groups)),
                "by": promise.by.isoformat(),
                "promised": coverage.promised,
                "seen": coverage.seen,
                "booked": coverage.booked,
                "not_reached": len(coverage.not_reached),
                "not_reached_ids": " ".join(coverage.not_reached),
            }
        )
    return SchoolReport(school_id, first, last, body)
