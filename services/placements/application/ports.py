"""What placements' use cases need from storage: the unit of work and its repositories.

The adapters implement these over the database (`adapters/uow.py`); the unit tests, in
memory (`tests/unit/placements/fakes.py`). A use case sees records and domain objects,
never a table or a statement.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.placements.domain.model import MatchingProblem, MatchResult, Placement, Preference
from shared.ports import Transaction

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RoundRecord:
    id: str
    ebp_id: str
    name: str
    year_group: int
    deadline: datetime
    created_at: datetime
    published_run_id: str | None
    published_at: datetime | None
    school_weeks: Mapping[str, tuple[str, ...]]
    clearing_default: bool = False
    """Whether a student who has not said counts as wanting any suitable placement."""

    @property
    def weeks(self) -> list[str]:
        return sorted({week for weeks in self.school_weeks.values() for week in weeks})

    def includes_school(self, school_id: str) -> bool:
        return school_id in self.school_weeks


@dataclass(frozen=True)
class Enrolment:
    """Where the directory says a student is: their school and year group."""

    school_id: str
    year_group: int


@dataclass(frozen=True)
class CatalogueEntry:
    """A placement as the matching sees it, with what a student is shown of it."""

    placement: Placement
    employer_name: str
    title: str
    postcode_district: str | None
    capacity: Mapping[str, int]
    """Places by ISO week, as stored."""
    accessibility: Sequence[str]


@dataclass(frozen=True)
class StatedPreferences:
    student_id: str
    school_id: str
    choices: list[Preference]
    travel_limit_km: float
    access_needs: list[str]
    submitted_at: datetime
    clearing: bool | None = None


@dataclass(frozen=True)
class PinRecord:
    student_id: str
    placement_id: str
    week: str
    source: str
    pinned_at: datetime


@dataclass(frozen=True)
class Allocation:
    """A published allocation as stored (`status` published, confirmed or withdrawn)."""

    id: str
    round_id: str
    student_id: str
    school_id: str
    placement_id: str
    employer_id: str
    week: str
    rank: int | None
    pinned: bool
    cleared: bool
    status: str


@dataclass(frozen=True)
class RunSummary:
    id: str
    round_id: str
    seed: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    report: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class RunBasis:
    """What a published run leaves for later re-matches: its seed and school quotas."""

    seed: int
    school_quotas: dict[str, int]


@dataclass(frozen=True)
class RunAssignment:
    """One student's seat in a run, with the employer and sector of the placement."""

    student_id: str
    school_id: str
    placement_id: str
    employer_id: str
    sector: str
    week: str
    rank: int | None
    pinned: bool
    cleared: bool


@dataclass(frozen=True)
class RunResults:
    assignments: list[dict[str, Any]]
    unplaced: list[dict[str, Any]]


@dataclass(frozen=True)
class EmployerPlaceCount:
    employer_id: str
    placement_id: str
    week: str
    students: int


class Rounds(Protocol):
    async def get(self, round_id: str, *, for_update: bool = False) -> RoundRecord | None: ...
    async def every(self) -> list[RoundRecord]: ...
    async def of_ebp(self, ebp_id: str) -> list[RoundRecord]: ...
    async def including_schools(self, school_ids: Collection[str]) -> list[RoundRecord]: ...
    async def add(self, record: RoundRecord, *, opened_by: str) -> None: ...
    async def claim_publication(self, round_id: str, run_id: str, now: datetime) -> bool: ...


class Directory(Protocol):
    async def known_schools(self, school_ids: Collection[str]) -> set[str]: ...
    async def enrolment(self, student_id: str) -> Enrolment | None: ...


class Catalogue(Protocol):
    async def entries(self, ebp_id: str | None) -> list[CatalogueEntry]: ...
    async def placement(self, ebp_id: str | None, placement_id: str) -> Placement | None: ...
    async def sectors(self, placement_ids: Collection[str]) -> dict[str, str]: ...
    async def employers_by_id(self) -> dict[str, dict[str, Any]]: ...
    async def placements_by_id(self) -> dict[str, dict[str, Any]]: ...
    async def save_employer(self, values: Mapping[str, Any]) -> int:
        """Insert or update an employer; its revision after the change."""
        ...

    async def save_placement(self, values: Mapping[str, Any]) -> None: ...
    async def add_employer(self, values: Mapping[str, Any]) -> None: ...
    async def add_placement(self, values: Mapping[str, Any]) -> None: ...
    async def imported(self) -> list[dict[str, Any]]:
        """Every placement not self-found, with its employer's columns, in reference order."""
        ...


class Preferences(Protocol):
    async def save(self, round_id: str, stated: StatedPreferences) -> None: ...
    async def of_student(
        self, round_id: str, student_id: str, school_id: str
    ) -> StatedPreferences | None: ...
    async def choices_in(self, round_id: str) -> list[list[Preference]]: ...


class Pins(Protocol):
    async def save(self, round_id: str, record: PinRecord, *, pinned_by: str) -> None: ...
    async def remove(self, round_id: str, student_id: str) -> bool: ...
    async def others_at(
        self, round_id: str, placement_id: str, week: str, *, besides: str
    ) -> int: ...
    async def in_round(self, round_id: str) -> list[PinRecord]: ...


class Runs(Protocol):
    async def running(self, round_id: str) -> str | None: ...
    async def fail_started_before(self, round_id: str, before: datetime, now: datetime) -> None: ...
    async def add(self, run: RunSummary, *, requested_by: str) -> None: ...
    async def by_id(self, run_id: str) -> RunSummary | None: ...
    async def in_round(self, round_id: str) -> list[RunSummary]: ...
    async def complete(
        self,
        run_id: str,
        result: MatchResult,
        report: dict[str, Any],
        school_of: Mapping[str, str],
        now: datetime,
    ) -> None: ...
    async def fail(self, run_id: str, reason: str, now: datetime) -> None: ...
    async def basis(self, run_id: str) -> RunBasis: ...
    async def assignments(self, run_id: str) -> list[RunAssignment]: ...
    async def seats(self, run_id: str) -> dict[str, tuple[str, str]]: ...
    async def results(self, run_id: str, school_ids: frozenset[str] | None) -> RunResults: ...


class Allocations(Protocol):
    async def live(
        self,
        round_id: str,
        *,
        school_ids: frozenset[str] | None = None,
        student_id: str | None = None,
        employer_id: str | None = None,
    ) -> list[Allocation]: ...
    async def add(self, allocations: Sequence[Allocation], published_at: datetime) -> None: ...
    async def confirm(self, ids: Collection[str], now: datetime) -> None: ...
    async def withdraw(self, ids: Collection[str], now: datetime) -> None: ...
    async def places_of(
        self, round_id: str, employer_ids: Collection[str]
    ) -> list[EmployerPlaceCount]: ...
    async def exported(self, round_id: str, run_id: str | None) -> list[dict[str, Any]]:
        """The round's live allocations (or, with `run_id`, that run's proposals) with the
        placement's and employer's columns, by school and student: `EXPORT_COLUMNS`."""
        ...


EXPORT_COLUMNS = (
    "student_id",
    "school_id",
    "week",
    "rank",
    "status",
    "placement_ref",
    "placement_title",
    "sector",
    "employer_ref",
    "employer_name",
    "employer_contact_email",
)


class Withdrawals(Protocol):
    async def in_round(self, round_id: str) -> tuple[set[str], set[str]]:
        """The students and the placements that have withdrawn from the round."""
        ...

    async def add(
        self,
        round_id: str,
        *,
        student_id: str | None,
        placement_id: str | None,
        recorded_by: str,
        now: datetime,
    ) -> None: ...


class Problems(Protocol):
    async def load(self, round_: RoundRecord, vetting_date: date) -> MatchingProblem: ...


class Revisions(Protocol):
    async def next(self, round_id: str, holder: str, holder_id: str) -> int: ...


class SelfFound(Protocol):
    async def of_student(self, round_id: str, student_id: str) -> dict[str, Any] | None: ...
    async def get(self, round_id: str, self_found_id: str) -> dict[str, Any] | None: ...
    async def save(self, record: Mapping[str, Any], *, new: bool) -> None: ...
    async def decide(
        self, self_found_id: str, status: str, now: datetime, placement_id: str | None = None
    ) -> None: ...
    async def in_round(
        self,
        round_: RoundRecord,
        *,
        student_ids: Collection[str] | None = None,
        school_ids: Collection[str] | None = None,
    ) -> list[dict[str, Any]]: ...


class PlacementsRepositories(Protocol):
    @property
    def rounds(self) -> Rounds: ...
    @property
    def directory(self) -> Directory: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def preferences(self) -> Preferences: ...
    @property
    def pins(self) -> Pins: ...
    @property
    def runs(self) -> Runs: ...
    @property
    def allocations(self) -> Allocations: ...
    @property
    def withdrawals(self) -> Withdrawals: ...
    @property
    def problems(self) -> Problems: ...
    @property
    def revisions(self) -> Revisions: ...
    @property
    def self_found(self) -> SelfFound: ...


class PlacementsUnitOfWork(PlacementsRepositories, Transaction, Protocol):
    """One business transaction over placements' repositories; see `shared.uow.UnitOfWork`."""


UnitOfWorkFactory = Callable[[], PlacementsUnitOfWork]


@dataclass(frozen=True)
class ListedEmployer:
    """An employer as the EBP's own page lists it."""

    id: str
    reference: str
    name: str
    postcode_district: str | None
    health_safety_expires: date
    insurance_expires: date


@dataclass(frozen=True)
class ListedPlacement:
    """An imported placement as the EBP's own page lists it, with its places in every week."""

    id: str
    reference: str
    employer_id: str
    title: str
    sector: str
    places: int


@dataclass(frozen=True)
class RunProgress:
    """How far a run has got, as its row says (only `status` says whether it still runs)."""

    run_id: str
    round_id: str
    status: str
    stage: str | None
    done: int
    total: int


class Overview(Protocol):
    """What the pages show beside the API's answers: names, a partnership's own listing."""

    async def school_names(self, school_ids: Iterable[str]) -> dict[str, str]: ...
    async def all_schools(self, school_ids: Iterable[str] | None) -> dict[str, str]:
        """Every school placements knows of (or only `school_ids`), by name."""
        ...

    async def employers_of(
        self, ebp_id: str | None
    ) -> tuple[list[ListedEmployer], list[ListedPlacement]]:
        """The employers a partnership may match (its own and those of no partnership; every
        one with `None`) and their imported placements."""
        ...

    async def placement_names(self, placement_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Each placement's title and its employer's name."""
        ...

    async def preference_count(self, round_id: str) -> int: ...
    async def references_of_others(
        self, ebp_id: str, employer_refs: Iterable[str], placement_refs: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these employer and placement references belong to another partnership."""
        ...


class RunProgressRecords(Protocol):
    async def of_run(self, round_id: str, run_id: str) -> RunProgress | None: ...
    async def record(self, run_id: str, stage: str, done: int, total: int) -> None: ...


class PageRepositories(PlacementsRepositories, Protocol):
    """The repositories, with what the staff and student pages read beside the use cases and
    the stages a running matching has passed."""

    @property
    def overview(self) -> Overview: ...
    @property
    def progress(self) -> RunProgressRecords: ...


class PageUnitOfWork(PlacementsUnitOfWork, PageRepositories, Protocol):
    """The unit of work with the pages' repositories too."""
