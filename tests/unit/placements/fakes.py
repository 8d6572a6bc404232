"""Placements' unit of work and repositories in memory, for fast tests of the use cases.

As booking's fakes: the repositories hold records in dicts, and the unit of work counts
commits and keeps the writes and events of committed work only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from services.placements.application.ports import (
    Allocation,
    CatalogueEntry,
    EmployerPlaceCount,
    Enrolment,
    PinRecord,
    RoundRecord,
    RunAssignment,
    RunBasis,
    RunResults,
    RunSummary,
    StatedPreferences,
)
from services.placements.domain.model import MatchingProblem, MatchResult, Placement, Preference
from services.placements.domain.weeks import iso_week
from tests.fakes import FakeTransaction


class FakeRounds:
    def __init__(self) -> None:
        self.rows: dict[str, RoundRecord] = {}

    async def get(self, round_id: str, *, for_update: bool = False) -> RoundRecord | None:
        return self.rows.get(round_id)

    async def every(self) -> list[RoundRecord]:
        return sorted(self.rows.values(), key=lambda r: r.created_at)

    async def of_ebp(self, ebp_id: str) -> list[RoundRecord]:
        return [r for r in await self.every() if r.ebp_id == ebp_id]

    async def including_schools(self, school_ids: Collection[str]) -> list[RoundRecord]:
        return [r for r in await self.every() if set(r.school_weeks) & set(school_ids)]

    async def add(self, record: RoundRecord, *, opened_by: str) -> None:
        self.rows[record.id] = record

    async def claim_publication(self, round_id: str, run_id: str, now: datetime) -> bool:
        if self.rows[round_id].published_at is not None:
            return False
        self.rows[round_id] = replace(
            self.rows[round_id], published_run_id=run_id, published_at=now
        )
        return True


class FakeDirectory:
    def __init__(self) -> None:
        self.schools: set[str] = set()
        self.students: dict[str, Enrolment] = {}

    async def known_schools(self, school_ids: Collection[str]) -> set[str]:
        return self.schools & set(school_ids)

    async def enrolment(self, student_id: str) -> Enrolment | None:
        return self.students.get(student_id)


class FakeCatalogue:
    """Placements with what a student is shown of them; `ebp_id` is not told apart here."""

    def __init__(self) -> None:
        self.entries_by_id: dict[str, CatalogueEntry] = {}

    def offer(self, placement: Placement) -> None:
        self.entries_by_id[placement.id] = CatalogueEntry(
            placement=placement,
            employer_name=f"Employer {placement.employer_id}",
            title=f"Placement {placement.id}",
            postcode_district=None,
            capacity={iso_week(w): n for w, n in placement.capacity.items()},
            accessibility=sorted(placement.access_features),
        )

    async def entries(self, ebp_id: str | None) -> list[CatalogueEntry]:
        return [self.entries_by_id[k] for k in sorted(self.entries_by_id)]

    async def placement(self, ebp_id: str | None, placement_id: str) -> Placement | None:
        entry = self.entries_by_id.get(placement_id)
        return None if entry is None else entry.placement

    async def sectors(self, placement_ids: Collection[str]) -> dict[str, str]:
        return {k: e.placement.sector for k, e in self.entries_by_id.items() if k in placement_ids}

    async def employers_by_id(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    async def placements_by_id(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    async def save_employer(self, values: Mapping[str, Any]) -> int:
        raise NotImplementedError

    async def save_placement(self, values: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def add_employer(self, values: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def add_placement(self, values: Mapping[str, Any]) -> None:
        raise NotImplementedError

    async def imported(self) -> list[dict[str, Any]]:
        raise NotImplementedError


class FakePreferences:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], StatedPreferences] = {}

    async def save(self, round_id: str, stated: StatedPreferences) -> None:
        self.rows[(round_id, stated.student_id)] = stated

    async def of_student(
        self, round_id: str, student_id: str, school_id: str
    ) -> StatedPreferences | None:
        return self.rows.get((round_id, student_id))

    async def choices_in(self, round_id: str) -> list[list[Preference]]:
        return [list(s.choices) for (r, _), s in self.rows.items() if r == round_id]


class FakePins:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], PinRecord] = {}
        self.pinned_by: dict[tuple[str, str], str] = {}

    async def save(self, round_id: str, record: PinRecord, *, pinned_by: str) -> None:
        self.rows[(round_id, record.student_id)] = record
        self.pinned_by[(round_id, record.student_id)] = pinned_by

    async def remove(self, round_id: str, student_id: str) -> bool:
        self.pinned_by.pop((round_id, student_id), None)
        return self.rows.pop((round_id, student_id), None) is not None

    async def others_at(self, round_id: str, placement_id: str, week: str, *, besides: str) -> int:
        return sum(
            1
            for (r, student), pin in self.rows.items()
            if r == round_id
            and student != besides
            and (pin.placement_id, pin.week) == (placement_id, week)
        )

    async def in_round(self, round_id: str) -> list[PinRecord]:
        return [pin for (r, _), pin in sorted(self.rows.items()) if r == round_id]


class FakeRuns:
    """Only what publication reads of a published run: its seed and quotas."""

    def __init__(self) -> None:
        self.bases: dict[str, RunBasis] = {}

    async def basis(self, run_id: str) -> RunBasis:
        return self.bases[run_id]

    async def running(self, round_id: str) -> str | None:
        raise NotImplementedError

    async def fail_started_before(self, round_id: str, before: datetime, now: datetime) -> None:
        raise NotImplementedError

    async def add(self, run: RunSummary, *, requested_by: str) -> None:
        raise NotImplementedError

    async def by_id(self, run_id: str) -> RunSummary | None:
        raise NotImplementedError

    async def in_round(self, round_id: str) -> list[RunSummary]:
        raise NotImplementedError

    async def complete(
        self,
        run_id: str,
        result: MatchResult,
        report: dict[str, Any],
        school_of: Mapping[str, str],
        now: datetime,
    ) -> None:
        raise NotImplementedError

    async def fail(self, run_id: str, reason: str, now: datetime) -> None:
        raise NotImplementedError

    async def assignments(self, run_id: str) -> list[RunAssignment]:
        raise NotImplementedError

    async def seats(self, run_id: str) -> dict[str, tuple[str, str]]:
        raise NotImplementedError

    async def results(self, run_id: str, school_ids: frozenset[str] | None) -> RunResults:
        raise NotImplementedError


class FakeAllocations:
    def __init__(self) -> None:
        self.rows: dict[str, Allocation] = {}
        self.stamped: dict[str, datetime] = {}

    async def live(
        self,
        round_id: str,
        *,
        school_ids: frozenset[str] | None = None,
        student_id: str | None = None,
        employer_id: str | None = None,
    ) -> list[Allocation]:
        return sorted(
            (
                a
                for a in self.rows.values()
                if a.round_id == round_id
                and a.status in ("published", "confirmed")
                and (school_ids is None or a.school_id in school_ids)
                and student_id in (None, a.student_id)
                and employer_id in (None, a.employer_id)
            ),
            key=lambda a: a.student_id,
        )

    async def add(self, allocations: Sequence[Allocation], published_at: datetime) -> None:
        for a in allocations:
            assert a.id not in self.rows
            self.rows[a.id] = a
            self.stamped[a.id] = published_at

    async def _set(self, ids: Collection[str], status: str, now: datetime) -> None:
        for i in ids:
            self.rows[i] = replace(self.rows[i], status=status)
            self.stamped[i] = now

    async def confirm(self, ids: Collection[str], now: datetime) -> None:
        await self._set(ids, "confirmed", now)

    async def withdraw(self, ids: Collection[str], now: datetime) -> None:
        await self._set(ids, "withdrawn", now)

    async def places_of(
        self, round_id: str, employer_ids: Collection[str]
    ) -> list[EmployerPlaceCount]:
        counts = Counter(
            (a.employer_id, a.placement_id, a.week)
            for a in await self.live(round_id)
            if a.employer_id in employer_ids
        )
        return [EmployerPlaceCount(*key, n) for key, n in sorted(counts.items())]


class FakeWithdrawals:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def in_round(self, round_id: str) -> tuple[set[str], set[str]]:
        mine = [w for w in self.rows if w["round_id"] == round_id]
        return (
            {w["student_id"] for w in mine if w["student_id"]},
            {w["placement_id"] for w in mine if w["placement_id"]},
        )

    async def add(
        self,
        round_id: str,
        *,
        student_id: str | None,
        placement_id: str | None,
        recorded_by: str,
        now: datetime,
    ) -> None:
        self.rows.append(
            {
                "round_id": round_id,
                "student_id": student_id,
                "placement_id": placement_id,
                "recorded_by": recorded_by,
                "recorded_at": now,
            }
        )


class FakeProblems:
    """The round's matching problem as the test sets it, dated by the day asked for; the
    places other rounds hold are the test's to leave out."""

    def __init__(self) -> None:
        self.problem = MatchingProblem(students=(), placements=())
        self.asked_on: list[date] = []

    async def load(self, round_: RoundRecord, vetting_date: date) -> MatchingProblem:
        self.asked_on.append(vetting_date)
        return replace(self.problem, vetting_date=vetting_date)


class FakeRevisions:
    def __init__(self) -> None:
        self.counters: Counter[tuple[str, str, str]] = Counter()

    async def next(self, round_id: str, holder: str, holder_id: str) -> int:
        self.counters[(round_id, holder, holder_id)] += 1
        return self.counters[(round_id, holder, holder_id)]


class FakeSelfFound:
    async def of_student(self, round_id: str, student_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    async def get(self, round_id: str, self_found_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    async def save(self, record: Mapping[str, Any], *, new: bool) -> None:
        raise NotImplementedError

    async def decide(
        self, self_found_id: str, status: str, now: datetime, placement_id: str | None = None
    ) -> None:
        raise NotImplementedError

    async def in_round(
        self,
        round_: RoundRecord,
        *,
        student_ids: Collection[str] | None = None,
        school_ids: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        raise NotImplementedError


class FakeUnitOfWork(FakeTransaction):
    """Placements' repositories over the shared fake transaction."""

    def __init__(self) -> None:
        super().__init__()
        self.rounds = FakeRounds()
        self.directory = FakeDirectory()
        self.catalogue = FakeCatalogue()
        self.preferences = FakePreferences()
        self.pins = FakePins()
        self.runs = FakeRuns()
        self.allocations = FakeAllocations()
        self.withdrawals = FakeWithdrawals()
        self.problems = FakeProblems()
        self.revisions = FakeRevisions()
        self.self_found = FakeSelfFound()

    def _stores(self) -> tuple[dict[str, Any], ...]:
        return (
            self.rounds.__dict__,
            self.preferences.__dict__,
            self.pins.__dict__,
            self.allocations.__dict__,
            self.withdrawals.__dict__,
            self.revisions.__dict__,
        )
