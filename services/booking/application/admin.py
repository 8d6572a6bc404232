"""What the admin reads at a glance: the directory (schools, their PAs and agreements, how
many students) and who is signed in. No student is named: a student's session shows only
their role, school and year group; staff sessions show the account's name or email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from services.booking.application.agreements import academic_year_of
from shared.auth.principal import Role


@dataclass(frozen=True)
class SchoolAtAGlance:
    school_id: str
    name: str
    students: int
    lead_adviser: str | None
    advisers: tuple[str, ...]  # display names of the PAs the year's agreement names
    agreed: bool  # whether the school has an agreement for the academic year


@dataclass(frozen=True)
class AdviserAtAGlance:
    adviser_id: str
    name: str
    schools: tuple[str, ...]  # school names


@dataclass(frozen=True)
class Directory:
    academic_year: str
    schools: tuple[SchoolAtAGlance, ...]
    advisers: tuple[AdviserAtAGlance, ...]


@dataclass(frozen=True)
class OpenSession:
    account_id: str
    role: Role
    who: str | None  # a staff account's display name or email; None for a student
    schools: tuple[str, ...]  # school names
    year_group: int | None  # a student's year group
    active: bool
    signed_in_at: datetime
    last_seen_at: datetime | None


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    role: Role
    email: str
    display_name: str | None
    school_ids: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class SessionRow:
    account_id: str
    created_at: datetime
    last_seen_at: datetime | None


class AdminReads(Protocol):
    async def school_rows(self) -> list[tuple[str, str, str | None, int]]:
        """(id, name, lead adviser id, students) per school, by name."""
        ...

    async def agreement_advisers(self, academic_year: str) -> dict[str, set[str]]:
        """The adviser ids each school's agreement for the year names, by school id."""
        ...

    async def adviser_names(self) -> dict[str, str]: ...
    async def student_years(self, student_ids: set[str]) -> dict[str, int]: ...
    async def open_sessions(self, now: datetime) -> list[tuple[AccountRow, SessionRow]]:
        """The sessions neither revoked nor expired, newest first, with their accounts."""
        ...

    async def disabled_accounts(self) -> list[AccountRow]: ...


@dataclass(frozen=True)
class DisabledAccount:
    account_id: str
    role: Role
    who: str | None  # as for a session: no student is named
    schools: tuple[str, ...]


async def directory(reads: AdminReads, today: date) -> Directory:
    year = academic_year_of(today)
    rows = await reads.school_rows()
    named = await reads.agreement_advisers(year)
    names = await reads.adviser_names()
    schools = []
    served: dict[str, list[str]] = {}
    for school_id, name, lead, students in rows:
        advisers = named.get(school_id, set()) | ({lead} if lead else set())
        for adviser_id in advisers:
            served.setdefault(adviser_id, []).append(name)
        schools.append(
            SchoolAtAGlance(
                school_id=school_id,
                name=name,
                students=students,
                lead_adviser=names.get(lead, lead) if lead else None,
                advisers=tuple(sorted(names.get(a, a) for a in advisers)),
                agreed=school_id in named,
            )
        )
    pas = tuple(
        AdviserAtAGlance(adviser_id, name, tuple(sorted(served.get(adviser_id, []))))
        for adviser_id, name in sorted(names.items(), key=lambda item: (item[1], item[0]))
    )
    return Directory(year, tuple(schools), pas)


async def signed_in_now(reads: AdminReads, now: datetime) -> list[OpenSession]:
    found = await reads.open_sessions(now)
    school_names = {school_id: name for school_id, name, _, _ in await reads.school_rows()}
    years = await reads.student_years(
        {account.account_id for account, _ in found if account.role is Role.STUDENT}
    )
    shown = []
    for account, session in found:
        student = account.role is Role.STUDENT
        shown.append(
            OpenSession(
                account_id=account.account_id,
                role=account.role,
                who=None if student else (account.display_name or account.email),
                schools=tuple(school_names.get(s, s) for s in account.school_ids),
                year_group=years.get(account.account_id) if student else None,
                active=account.active,
                signed_in_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        )
    return shown


async def disabled_now(reads: AdminReads) -> list[DisabledAccount]:
    school_names = {school_id: name for school_id, name, _, _ in await reads.school_rows()}
    return [
        DisabledAccount(
            account_id=a.account_id,
            role=a.role,
            who=None if a.role is Role.STUDENT else (a.display_name or a.email),
            schools=tuple(school_names.get(s, s) for s in a.school_ids),
        )
        for a in await reads.disabled_accounts()
    ]
