"""Placements' use cases over a unit of work in memory: preferences, pins, and withdrawals
after publication. The database's side of the same is in tests/integration/placements."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.pins import (
    PinStudent,
    UnpinStudent,
    list_pins,
    pin_student,
    unpin_student,
)
from services.placements.application.ports import (
    Allocation,
    Enrolment,
    PinRecord,
    RoundRecord,
    RunBasis,
)
from services.placements.application.preferences import (
    SubmitPreferences,
    stated_preferences,
    submit_preferences,
)
from services.placements.application.publication import Withdraw, withdraw
from services.placements.domain.model import (
    GeoPoint,
    MatchingProblem,
    Placement,
    Preference,
    Student,
)
from services.placements.domain.weeks import monday_of
from shared.events.placements import WithdrawnBy
from tests.unit.placements.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

NOW = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)
W25, W26 = "2027-W25", "2027-W26"
SCHOOL, OTHER_SCHOOL = "school-s", "school-x"
HOME = GeoPoint(51.27, 0.52)


def _round(**changes: Any) -> RoundRecord:
    record = RoundRecord(
        id="round-1",
        ebp_id="ebp-1",
        name="Summer 2027",
        year_group=10,
        deadline=datetime(2027, 3, 1, tzinfo=UTC),
        created_at=datetime(2027, 1, 4, tzinfo=UTC),
        published_run_id=None,
        published_at=None,
        school_weeks={SCHOOL: (W25,)},
    )
    return replace(record, **changes)


def _placement(
    pid: str, sector: str = "health", *, weeks: tuple[str, ...] = (W25,), **more: Any
) -> Placement:
    fields: dict[str, Any] = {
        "employer_id": f"employer-{pid}",
        "sector": sector,
        "location": HOME,
        "capacity": {monday_of(w): 1 for w in weeks},
        "minimum_age": 14,
        "access_features": frozenset(),
        "health_and_safety_expiry": date(2028, 1, 31),
        "insurance_expiry": date(2028, 1, 31),
    }
    fields.update(more)
    return Placement(pid, **fields)


def _county() -> FakeUnitOfWork:
    """Three students of the round's school (and two who are not in it), four placements."""
    uow = FakeUnitOfWork()
    uow.directory.students = {
        "st-1": Enrolment(SCHOOL, 10),
        "st-2": Enrolment(SCHOOL, 10),
        "st-3": Enrolment(SCHOOL, 10),
        "st-elsewhere": Enrolment(OTHER_SCHOOL, 10),
        "st-older": Enrolment(SCHOOL, 11),
    }
    for placement in (
        _placement("p-health"),
        _placement("p-it", "it"),
        _placement("p-later", "retail", weeks=(W26,)),
        _placement("p-lapsing", "animal_care", health_and_safety_expiry=date(2027, 6, 1)),
    ):
        uow.catalogue.offer(placement)
    return uow


def _choices(*names: str) -> list[Preference]:
    return [
        Preference.for_placement(n) if n.startswith("p-") else Preference.for_sector(n)
        for n in names
    ]


def _submit(student_id: str = "st-1", *names: str, **more: Any) -> SubmitPreferences:
    round_ = more.pop("round_", _round())
    return SubmitPreferences(
        round_, student_id, _choices(*(names or ("p-health", "it"))), 12.0, ["step_free"], **more
    )


# Preferences


async def test_submitting_keeps_the_ranked_choices_and_the_clearing_tick() -> None:
    uow = _county()
    async with uow:
        stated = await submit_preferences(_submit(clearing=True), uow, NOW)
    assert uow.commits == 1
    assert stated.choices == _choices("p-health", "it")
    assert (stated.school_id, stated.submitted_at, stated.clearing) == (SCHOOL, NOW, True)
    assert await stated_preferences(uow, _round(), "st-1", SCHOOL) == stated


async def test_a_new_submission_replaces_the_last_and_may_leave_clearing_to_the_round() -> None:
    uow = _county()
    async with uow:
        await submit_preferences(_submit(clearing=True), uow, NOW)
    async with uow:
        await submit_preferences(_submit("st-1", "it", clearing=None), uow, NOW)
    found = await stated_preferences(uow, _round(), "st-1", SCHOOL)
    assert found is not None
    assert (found.choices, found.clearing) == (_choices("it"), None)
    assert len(uow.preferences.rows) == 1


@pytest.mark.parametrize(
    ("names", "field"),
    [
        (("health", "it", "p-health", "p-it", "retail"), "choices"),
        (("health", "it", "health"), "choices.2"),
        (("p-nowhere",), "choices.0.placement_id"),
        (("p-later",), "choices.0.placement_id"),
        (("health", "retail"), "choices.1.sector"),
        (("p-lapsing",), "choices.0.placement_id"),
    ],
    ids=["too-many", "twice", "unknown", "other-weeks", "no-sector", "vetting-lapses"],
)
async def test_choices_outside_the_limits_are_refused_and_nothing_is_kept(
    names: tuple[str, ...], field: str
) -> None:
    uow = _county()
    with pytest.raises(Invalid) as refused:
        async with uow:
            await submit_preferences(_submit("st-1", *names), uow, NOW)
    assert refused.value.field == field
    assert (uow.commits, uow.preferences.rows) == (0, {})


@pytest.mark.parametrize(
    ("round_", "kind"),
    [
        (_round(deadline=datetime(2027, 2, 1, 9, 59, tzinfo=UTC)), "deadline-passed"),
        (_round(published_at=NOW, published_run_id="run-1"), "round-published"),
    ],
    ids=["after-the-deadline", "published"],
)
async def test_a_closed_round_takes_no_preferences(round_: RoundRecord, kind: str) -> None:
    uow = _county()
    with pytest.raises(Conflict) as refused:
        async with uow:
            await submit_preferences(_submit(round_=round_), uow, NOW)
    assert refused.value.kind == kind
    assert uow.commits == 0


@pytest.mark.parametrize("student_id", ["st-elsewhere", "st-older", "st-unknown"])
async def test_only_the_round_s_students_state_preferences(student_id: str) -> None:
    uow = _county()
    with pytest.raises(NotFound):
        async with uow:
            await submit_preferences(_submit(student_id), uow, NOW)
    assert uow.preferences.rows == {}


# Pins


def _pin(
    student_id: str = "st-1", placement_id: str = "p-health", week: str = W25, **more: Any
) -> PinStudent:
    return PinStudent(
        more.pop("round_", _round()), student_id, placement_id, week, "ebp-staff", **more
    )


async def test_a_pin_is_kept_with_who_pinned_it_and_when() -> None:
    uow = _county()
    async with uow:
        pin = await pin_student(_pin(), uow, NOW)
    assert pin == PinRecord("st-1", "p-health", W25, "staff", NOW)
    assert await list_pins(uow, _round()) == [pin]
    assert (uow.commits, uow.pins.pinned_by) == (1, {("round-1", "st-1"): "ebp-staff"})


async def test_a_placement_s_places_hold_as_many_pins_and_a_student_may_be_pinned_again() -> None:
    uow = _county()
    async with uow:
        await pin_student(_pin("st-1"), uow, NOW)
    async with uow:
        await pin_student(_pin("st-1"), uow, NOW)  # the student's own pin does not count
    with pytest.raises(Conflict) as refused:
        async with uow:
            await pin_student(_pin("st-2"), uow, NOW)
    assert refused.value.kind == "placement-full"
    assert [p.student_id for p in await list_pins(uow, _round())] == ["st-1"]


@pytest.mark.parametrize(
    ("placement_id", "week", "field", "kind"),
    [
        ("p-nowhere", W25, "placement_id", "validation"),
        ("p-health", W26, "week", "validation"),
        ("p-health", "2027-25", "week", "validation"),
        ("p-lapsing", W25, "placement_id", "vetting-expired"),
    ],
    ids=["unknown", "no-places-that-week", "not-a-week", "vetting-lapses"],
)
async def test_a_pin_never_overrides_capacity_or_vetting(
    placement_id: str, week: str, field: str, kind: str
) -> None:
    uow = _county()
    with pytest.raises(Invalid) as refused:
        async with uow:
            await pin_student(_pin("st-1", placement_id, week), uow, NOW)
    assert (refused.value.field, refused.value.kind) == (field, kind)
    assert (uow.commits, uow.pins.rows) == (0, {})


async def test_pins_change_only_before_publication_and_unpinning_needs_a_pin() -> None:
    uow = _county()
    published = _round(published_at=NOW, published_run_id="run-1")
    with pytest.raises(Conflict):
        async with uow:
            await pin_student(_pin(round_=published), uow, NOW)
    with pytest.raises(NotFound):
        async with uow:
            await unpin_student(UnpinStudent(_round(), "st-1"), uow)
    async with uow:
        await pin_student(_pin(), uow, NOW)
    async with uow:
        await unpin_student(UnpinStudent(_round(), "st-1"), uow)
    assert (uow.commits, uow.pins.rows) == (2, {})


# Withdrawals after publication

PUBLISHED_ON = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 4, 12, 14, 30, tzinfo=UTC)


def _student(sid: str) -> Student:
    return Student(
        id=sid,
        school_id=SCHOOL,
        birth_date=date(2011, 1, 1),
        home=HOME,
        travel_limit_km=12.0,
        preferences=(Preference.for_sector("health"),),
        school_weeks=frozenset({monday_of(W25)}),
    )


def _allocation(student_id: str, placement_id: str) -> Allocation:
    return Allocation(
        id=f"alloc-{student_id}",
        round_id="round-1",
        student_id=student_id,
        school_id=SCHOOL,
        placement_id=placement_id,
        employer_id=f"employer-{placement_id}",
        week=W25,
        rank=1,
        pinned=False,
        cleared=False,
        status="published",
    )


def _published() -> tuple[FakeUnitOfWork, RoundRecord]:
    """st-1 at p-a and st-2 at p-b; st-3 waits; p-c has a place nobody took."""
    uow = _county()
    placements = tuple(_placement(pid) for pid in ("p-a", "p-b", "p-c"))
    for placement in placements:
        uow.catalogue.offer(placement)
    uow.problems.problem = MatchingProblem(
        students=tuple(_student(s) for s in ("st-1", "st-2", "st-3")),
        placements=placements,
    )
    uow.runs.bases["run-1"] = RunBasis(seed=7, school_quotas={})
    uow.allocations.rows = {
        a.id: a for a in (_allocation("st-1", "p-a"), _allocation("st-2", "p-b"))
    }
    round_ = _round(published_at=PUBLISHED_ON, published_run_id="run-1")
    uow.rounds.rows[round_.id] = round_
    return uow, round_


def _placed(uow: FakeUnitOfWork) -> dict[str, str]:
    return {
        a.student_id: a.placement_id
        for a in uow.allocations.rows.values()
        if a.status != "withdrawn"
    }


async def test_a_student_withdrawing_ends_their_allocation_and_frees_their_place() -> None:
    uow, round_ = _published()
    async with uow:
        outcome = await withdraw(Withdraw(round_, "ebp-staff", student_id="st-1"), uow, LATER)
    assert [r["student_id"] for r in outcome.withdrawn] == ["st-1"]
    assert outcome.newly_allocated == [
        {
            "student_id": "st-3",
            "school_id": SCHOOL,
            "placement_id": "p-a",
            "employer_id": "employer-p-a",
            "week": W25,
            "rank": 1,
        }
    ]
    assert _placed(uow) == {"st-2": "p-b", "st-3": "p-a"}
    assert uow.allocations.rows["alloc-st-1"].status == "withdrawn"
    assert uow.allocations.stamped["alloc-st-1"] == LATER
    assert uow.types() == [
        "AllocationWithdrawn",
        "AllocationPublished",
        "EmployerAllocationsPublished",
    ]
    ended, rematched, employer_list = uow.events
    assert (ended.student_id, ended.withdrawn_by) == ("st-1", WithdrawnBy.STUDENT)
    assert (rematched.student_id, rematched.rematch) == ("st-3", True)
    assert (employer_list.employer_id, len(employer_list.places)) == ("employer-p-a", 1)
    assert uow.withdrawals.rows[0]["recorded_at"] == LATER
    assert uow.problems.asked_on == [LATER.date()]
    assert uow.commits == 1


async def test_a_placement_withdrawing_moves_only_its_students() -> None:
    uow, round_ = _published()
    async with uow:
        outcome = await withdraw(Withdraw(round_, "ebp-staff", placement_id="p-b"), uow, LATER)
    assert [r["student_id"] for r in outcome.withdrawn] == ["st-2"]
    assert _placed(uow) == {"st-1": "p-a", "st-2": "p-c"}
    ended = uow.events[0]
    assert (ended.student_id, ended.withdrawn_by) == ("st-2", WithdrawnBy.EMPLOYER)
    lists = {e.employer_id: e.places for e in uow.events if type(e).__name__.startswith("Employer")}
    assert set(lists) == {"employer-p-b", "employer-p-c"}
    assert lists["employer-p-b"] == []  # its whole list, now empty


@pytest.mark.parametrize(
    ("round_changes", "who", "refusal", "kind"),
    [
        (
            {"published_at": None, "published_run_id": None},
            {"student_id": "st-1"},
            Conflict,
            "round-not-published",
        ),
        ({}, {"student_id": "st-3"}, NotFound, "not-found"),
        ({}, {"placement_id": "p-nowhere"}, NotFound, "not-found"),
    ],
    ids=["unpublished", "student-without-allocation", "unknown-placement"],
)
async def test_a_withdrawal_that_cannot_stand_changes_nothing(
    round_changes: dict[str, Any], who: dict[str, str], refusal: type[Exception], kind: str
) -> None:
    uow, round_ = _published()
    before = dict(uow.allocations.rows)
    with pytest.raises(refusal) as refused:
        async with uow:
            await withdraw(
                Withdraw(replace(round_, **round_changes), "ebp-staff", **who), uow, LATER
            )
    assert getattr(refused.value, "kind", None) == kind
    assert (uow.allocations.rows, uow.withdrawals.rows, uow.events) == (before, [], [])


async def test_a_placement_withdraws_once() -> None:
    uow, round_ = _published()
    async with uow:
        await withdraw(Withdraw(round_, "ebp-staff", placement_id="p-b"), uow, LATER)
    with pytest.raises(Conflict) as refused:
        async with uow:
            await withdraw(Withdraw(round_, "ebp-staff", placement_id="p-b"), uow, LATER)
    assert refused.value.kind == "already-withdrawn"
    assert uow.commits == 1
