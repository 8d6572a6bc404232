"""Students' ranked preferences in a round, and the options they choose from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.ports import (
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
    StatedPreferences,
)
from services.placements.application.rounds import require_unpublished
from services.placements.domain.model import MAX_PREFERENCES, Preference
from services.placements.domain.scarcity import (
    OptionDemand,
    demand_and_supply,
    places_in_weeks,
)
from services.placements.domain.weeks import monday_of


@dataclass(frozen=True)
class SubmitPreferences:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    student_id: str
    choices: Sequence[Preference]
    travel_limit_km: float
    access_needs: Sequence[str]
    clearing: bool | None = None
    """Any suitable placement if no choice is possible; None leaves it to the round's default."""


async def student_school(
    repositories: PlacementsRepositories, round_: RoundRecord, student_id: str
) -> str:
    """The school of a student taking part in the round."""
    found = await repositories.directory.enrolment(student_id)
    if found is None or not round_.includes_school(found.school_id):
        raise NotFound("No such student in this round.")
    if found.year_group != round_.year_group:
        raise NotFound("No such student in this round.")
    return found.school_id


def require_open(round_: RoundRecord, now: datetime) -> None:
    require_unpublished(round_)
    if now > round_.deadline:
        raise Conflict(
            f"The deadline for preferences was {round_.deadline.isoformat()}.",
            kind="deadline-passed",
        )


async def submit_preferences(
    cmd: SubmitPreferences, uow: PlacementsUnitOfWork, now: datetime
) -> StatedPreferences:
    round_ = cmd.round_
    school_id = await student_school(uow, round_, cmd.student_id)
    require_open(round_, now)
    if len(cmd.choices) > MAX_PREFERENCES:
        raise Invalid("choices", f"Choose at most {MAX_PREFERENCES} options.")
    weeks = [monday_of(w) for w in round_.school_weeks[school_id]]
    catalogue = [entry.placement for entry in await uow.catalogue.entries(round_.ebp_id)]
    by_id = {p.id: p for p in catalogue}
    running = {p.id for p in catalogue if places_in_weeks(p, weeks, now.date())}
    for index, choice in enumerate(cmd.choices):
        if choice in cmd.choices[:index]:
            raise Invalid(f"choices.{index}", "This option is already one of your choices.")
        if choice.placement_id is not None:
            placement = by_id.get(choice.placement_id)
            if placement is None:
                raise Invalid(f"choices.{index}.placement_id", "No such placement in this round.")
            if placement.id not in running:
                raise Invalid(
                    f"choices.{index}.placement_id",
                    "This placement has no places in your school's placement weeks.",
                )
        elif not any(p.sector == choice.sector and p.id in running for p in catalogue):
            raise Invalid(
                f"choices.{index}.sector",
                f"No placement in sector {choice.sector!r} runs in your school's placement weeks.",
            )
    stated = StatedPreferences(
        cmd.student_id,
        school_id,
        list(cmd.choices),
        cmd.travel_limit_km,
        sorted(set(cmd.access_needs)),
        now,
        cmd.clearing,
    )
    await uow.preferences.save(round_.id, stated)
    await uow.commit()
    return stated


async def stated_preferences(
    reads: PlacementsRepositories, round_: RoundRecord, student_id: str, school_id: str
) -> StatedPreferences | None:
    """What the student (of `school_id`, as `student_school` found) stated, if anything."""
    return await reads.preferences.of_student(round_.id, student_id, school_id)


@dataclass(frozen=True)
class PlacementOption:
    placement_id: str
    employer_name: str
    title: str
    sector: str
    postcode_district: str | None
    weeks: list[str]
    minimum_age: int
    accessibility: list[str]
    demand: OptionDemand


async def round_options(
    reads: PlacementsRepositories, round_: RoundRecord, school_id: str, today: date
) -> tuple[list[OptionDemand], list[PlacementOption]]:
    """Sectors and placements running in the school's weeks, with how contested each is."""
    entries = await reads.catalogue.entries(round_.ebp_id)
    catalogue = [entry.placement for entry in entries]
    all_weeks = [monday_of(w) for w in round_.weeks]
    sectors, per_placement = demand_and_supply(
        catalogue, all_weeks, today, await reads.preferences.choices_in(round_.id)
    )
    school_weeks = set(round_.school_weeks[school_id])
    options = []
    for entry in entries:
        placement = entry.placement
        weeks = sorted(w for w, n in entry.capacity.items() if n > 0 and w in school_weeks)
        if not weeks or not places_in_weeks(placement, [monday_of(w) for w in weeks], today):
            continue
        options.append(
            PlacementOption(
                placement_id=placement.id,
                employer_name=entry.employer_name,
                title=entry.title,
                sector=placement.sector,
                postcode_district=entry.postcode_district,
                weeks=weeks,
                minimum_age=placement.minimum_age,
                accessibility=list(entry.accessibility),
                demand=per_placement[placement.id],
            )
        )
    offered = {o.sector for o in options}
    return [d for s, d in sectors.items() if s in offered], options
