"""Booking's unit of work and repositories in memory, for fast tests of the use cases.

After cosmicpython's `FakeUnitOfWork`: the repositories hold domain objects in dicts, and the
unit of work counts commits and keeps the writes and events of committed work only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from services.booking.application.agreements import AgreementTerms
from services.booking.application.ports import (
    Account,
    BusyTime,
    ContactAlert,
    DropInSession,
    LostRace,
    OfferRecord,
    StoredQueue,
    StudentOnFile,
)
from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.appointments import Appointment
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry
from services.booking.domain.model import AppointmentStatus, Interval, SessionType, Student
from services.booking.domain.placement import PlacementContext, PlacementRequest, Seat
from services.booking.domain.waitlist import Offer, WaitlistEntry
from tests.fakes import FakeTransaction
from tests.unit.booking.placing import context


class FakeAppointments:
    def __init__(self) -> None:
        self.rows: dict[str, Appointment] = {}
        self.seats: dict[str, Seat] = {}
        self.stamped: dict[str, datetime] = {}

    async def get(self, appointment_id: str, *, for_update: bool = False) -> Appointment | None:
        return self.rows.get(appointment_id)

    async def of_student(self, student_id: str) -> list[Appointment]:
        return sorted(
            (a for a in self.rows.values() if a.student_id == student_id),
            key=lambda a: a.interval.start,
        )

    async def at_school(self, school_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return [
            a
            for a in self.rows.values()
            if a.school_id == school_id and start <= a.interval.start < end
        ]

    async def add(self, appointment: Appointment, seat: Seat, now: datetime) -> None:
        assert appointment.id not in self.rows
        self.rows[appointment.id] = appointment
        self.seats[appointment.id] = seat
        self.stamped[appointment.id] = now

    async def update(
        self, appointment: Appointment, now: datetime, *, seat: Seat | None = None
    ) -> None:
        assert appointment.id in self.rows
        self.rows[appointment.id] = appointment
        self.seats[appointment.id] = seat or self.seats[appointment.id]
        self.stamped[appointment.id] = now


class FakeWaitlist:
    def __init__(self) -> None:
        self.entries: dict[str, WaitlistEntry] = {}
        self.entry_status: dict[str, str] = {}
        self.offers: dict[str, OfferRecord] = {}

    async def waiting(self, school_id: str, session_type: SessionType) -> dict[str, WaitlistEntry]:
        return {
            entry_id: entry
            for entry_id, entry in self.entries.items()
            if entry.school_id == school_id
            and entry.session_type is session_type
            and self.entry_status[entry_id] == "waiting"
        }

    async def waiting_at(self, school_id: str) -> list[WaitlistEntry]:
        return [
            e
            for i, e in self.entries.items()
            if e.school_id == school_id and self.entry_status[i] == "waiting"
        ]

    async def waiting_entry_id(
        self, student_id: str, school_id: str, session_type: SessionType
    ) -> str | None:
        waiting = await self.waiting(school_id, session_type)
        return next((i for i, e in waiting.items() if e.student_id == student_id), None)

    async def add_entry(self, entry_id: str, entry: WaitlistEntry) -> None:
        self.entries[entry_id] = entry
        self.entry_status[entry_id] = "waiting"

    async def add_offer(self, offer_id: str, offer: Offer, entry_id: str) -> None:
        slot = offer.slot
        self.offers[offer_id] = OfferRecord(
            id=offer_id,
            entry_id=entry_id,
            school_id=slot.school_id,
            student_id=offer.student_id,
            adviser_id=slot.adviser_ids[0],
            session_type=slot.session_type,
            interval=slot.interval,
            location=slot.room,
            offered_at=offer.offered_at,
            expires_at=offer.expires_at,
            offered_to=offer.offered_to,
            status="open",
        )

    async def open_offer(self, offer_id: str, student_id: str) -> OfferRecord | None:
        found = self.offers.get(offer_id)
        if found is None or found.student_id != student_id or found.status != "open":
            return None
        return found

    async def open_offers_of(
        self, student_id: str, *, at: datetime | None = None
    ) -> list[OfferRecord]:
        return [
            o
            for o in self.offers.values()
            if o.student_id == student_id
            and o.status == "open"
            and (at is None or o.interval.start == at)
        ]

    async def next_lapsed(self, now: datetime) -> OfferRecord | None:
        lapsed = [o for o in self.offers.values() if o.status == "open" and o.expires_at <= now]
        return min(lapsed, key=lambda o: o.expires_at, default=None)

    async def end_offer(self, offer_id: str, outcome: str) -> None:
        self.offers[offer_id] = replace(self.offers[offer_id], status=outcome)

    async def entry_booked(self, entry_id: str) -> None:
        self.entry_status[entry_id] = "booked"


class FakeDropIns:
    def __init__(self) -> None:
        self.sessions: dict[str, DropInSession] = {}
        self.entries: dict[str, tuple[str, QueueEntry]] = {}  # id: (session id, entry)

    async def get(self, session_id: str) -> DropInSession | None:
        return self.sessions.get(session_id)

    async def stored(self, ids: Sequence[str]) -> dict[str, DropInSession]:
        return {i: self.sessions[i] for i in ids if i in self.sessions}

    async def store(self, session: DropInSession) -> None:
        self.sessions[session.id] = session

    async def queue(self, session: DropInSession, *, lock: bool) -> StoredQueue:
        mine = [(i, e) for i, (s, e) in self.entries.items() if s == session.id]
        queue = DropInQueue(session.id, session.slot_minutes, 1, [e for _, e in mine])
        return StoredQueue(queue, {e.student_id: i for i, e in mine if e.is_open})

    async def add_entry(self, session_id: str, entry: QueueEntry, position: int) -> None:
        self.entries[f"entry-{len(self.entries) + 1}"] = (session_id, entry)

    async def update_entry(self, entry_id: str, entry: QueueEntry) -> None:
        self.entries[entry_id] = (self.entries[entry_id][0], entry)


class FakeBusyTimes:
    """What holds each adviser: their confirmed appointments (no calendar time, no offers)."""

    def __init__(self, appointments: FakeAppointments) -> None:
        self._appointments = appointments

    async def busy_time(
        self,
        adviser_ids: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        student_id: str | None = None,
    ) -> BusyTime:
        window = Interval(start, end)
        by_adviser: dict[str, list[Interval]] = {}
        for a in self._appointments.rows.values():
            if a.is_active and a.adviser_id in adviser_ids and a.interval.overlaps(window):
                by_adviser.setdefault(a.adviser_id, []).append(a.interval)
        return BusyTime(by_adviser, {})


class FakeDirectory:
    """Schools, their agreements and students: the reference data a booking reads."""

    def __init__(self) -> None:
        self.schools: dict[str, SchoolRecord] = {}
        self.agreements: dict[str, PartnershipAgreement] = {}
        self.students: dict[str, Student] = {}


class FakeSchools:
    def __init__(self, directory: FakeDirectory) -> None:
        self._directory = directory

    async def get(self, school_id: str) -> SchoolRecord | None:
        return self._directory.schools.get(school_id)

    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None:
        return self._directory.agreements.get(school_id)


class FakeStudents:
    def __init__(self, directory: FakeDirectory) -> None:
        self._directory = directory

    async def get(self, student_id: str) -> Student | None:
        return self._directory.students.get(student_id)

    async def of_school(self, school_id: str) -> list[Student]:
        return [s for s in self._directory.students.values() if s.school_id == school_id]


class FakePlacements:
    """The context as the loader reads it, from what the other fakes hold."""

    def __init__(
        self, directory: FakeDirectory, appointments: FakeAppointments, waitlist: FakeWaitlist
    ) -> None:
        self._directory = directory
        self._appointments = appointments
        self._waitlist = waitlist

    async def context_for(self, request: PlacementRequest) -> PlacementContext:
        school = self._directory.schools.get(request.school_id)
        if school is None:
            return PlacementContext(calendar=None)
        agreement = self._directory.agreements.get(request.school_id)
        student = self._directory.students.get(request.student_id)
        if agreement is None or request.session_type not in agreement.session_types:
            return PlacementContext(school.calendar, agreement, student)
        moving = request.moving.id if request.moving else None
        everything = list(self._appointments.rows.values())
        held = await self._waitlist.open_offers_of(request.student_id, at=request.starts_at)
        return context(
            agreement,
            school.calendar,
            student,
            request.starts_at,
            session_type=request.session_type,
            booked=[a for a in everything if a.is_active and a.id != moving],
            history=[
                a
                for a in everything
                if a.student_id == request.student_id and a.status is AppointmentStatus.ATTENDED
            ],
            holds_offer=bool(held),
        )


class FakeDirectoryRecords:
    """The directory's tables as dicts of rows by id; counted writes raise `revision`."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}

    def rows(self, table: str) -> dict[str, dict[str, Any]]:
        return self.tables.setdefault(table, {})

    async def existing_ids(self, table: str, ids: Collection[str]) -> set[str]:
        return set(ids) & set(self.rows(table))

    async def stored(self, table: str, ids: Collection[str]) -> dict[str, dict[str, Any]]:
        rows = self.rows(table)
        return {i: dict(rows[i]) for i in ids if i in rows}

    async def write(
        self, table: str, values: dict[str, Any], now: datetime, *, new: bool, counted: bool
    ) -> int | None:
        rows = self.rows(table)
        assert new is (values["id"] not in rows)
        row = rows.setdefault(values["id"], {"revision": 0})
        row.update(values)
        if counted:
            row["revision"] += 1
            return int(row["revision"])
        return None

    async def named(self, role: str) -> dict[str, str]:
        column = {"coordinator": "coordinator_id", "lead": "lead_adviser_id"}[role]
        return {i: r[column] for i, r in self.rows("schools").items() if r.get(column)}

    async def name_coordinator(self, school_id: str, staff_id: str) -> None:
        school = self.rows("schools").get(school_id)
        if school is not None and not school.get("coordinator_id"):
            school["coordinator_id"] = staff_id

    async def name_lead(self, school_id: str, adviser_id: str) -> None:
        if school_id in self.rows("schools"):
            self.rows("schools")[school_id]["lead_adviser_id"] = adviser_id

    async def school_of_student(self, student_id: str) -> str | None:
        found = self.rows("students").get(student_id)
        return None if found is None else str(found["school_id"])


class FakeAgreements:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], dict[str, Any]] = {}

    async def terms(self, school_id: str, academic_year: str) -> AgreementTerms | None:
        values = self.saved.get((school_id, academic_year))
        if values is None:
            return None
        return AgreementTerms.model_validate(
            {k: v for k, v in values.items() if k in AgreementTerms.model_fields}
        )

    async def save(self, values: dict[str, Any]) -> None:
        self.saved[(values["school_id"], values["academic_year"])] = values


class FakeErasures:
    """The students on file and their open sessions' ids; `forget` re-points their
    appointments and drops the student."""

    def __init__(self, reference: FakeDirectory, appointments: FakeAppointments) -> None:
        self._reference = reference
        self._appointments = appointments
        self.on_file: dict[str, StudentOnFile] = {}
        self.forgotten: list[str] = []
        self.redacted: dict[str, frozenset[str]] = {}
        self.sessions: dict[str, list[str]] = {}

    async def locked_student(self, student_id: str) -> StudentOnFile | None:
        return self.on_file.get(student_id)

    async def forget(self, student_id: str, pseudonym: str, student: StudentOnFile) -> int:
        rows = self._appointments.rows
        theirs = [a for a in rows.values() if a.student_id == student_id]
        for a in theirs:
            rows[a.id] = replace(a, student_id=pseudonym, referral=None, cancel_reason=None)
        del self.on_file[student_id]
        self._reference.students.pop(student_id, None)
        self.forgotten.append(student_id)
        return len(theirs)

    async def redact_events(self, key: str, keep_types: Collection[str]) -> None:
        self.redacted[key] = frozenset(keep_types)

    async def open_sessions(self, student_id: str, now: datetime) -> list[str]:
        return self.sessions.get(student_id, [])


class FakeAccountStore:
    """Accounts by email, and each session's end (None once revoked)."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, datetime | None] = {}
        self.reads = 0
        # Which account each session is of, each session ended (with why), and when seen.
        self.owners: dict[str, str] = {}
        self.ended: list[tuple[str, str]] = []
        self.seen_at: dict[str, datetime] = {}

    async def by_email(self, email: str) -> Account | None:
        return self.accounts.get(email)

    async def open_session(
        self,
        session_id: str,
        account_id: str,
        created_at: datetime,
        expires_at: datetime,
        *,
        rehashed: str | None = None,
    ) -> None:
        self.sessions[session_id] = expires_at
        self.owners[session_id] = account_id

    async def revoke(self, session_id: str, at: datetime, *, tokens_until: datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = None

    async def open_until(self, session_id: str) -> datetime | None:
        self.reads += 1
        return self.sessions.get(session_id)

    async def by_id(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.id == account_id), None)

    def _end(self, account_id: str, reason: str, keep: str | None = None) -> list[str]:
        ids = [
            sid
            for sid, owner in self.owners.items()
            if owner == account_id and sid != keep and self.sessions.get(sid) is not None
        ]
        for sid in ids:
            self.sessions[sid] = None
            self.ended.append((sid, reason))
        return ids

    async def change_password(
        self,
        account_id: str,
        password_hash: str,
        at: datetime,
        *,
        keep: str,
        tokens_until: datetime,
    ) -> list[str]:
        account = await self.by_id(account_id)
        assert account is not None
        self.accounts[account.email] = replace(account, password_hash=password_hash)
        return self._end(account_id, "password_changed", keep)

    async def set_active(
        self, account_id: str, active: bool, at: datetime, *, tokens_until: datetime
    ) -> list[str] | None:
        account = await self.by_id(account_id)
        if account is None:
            return None
        self.accounts[account.email] = replace(account, active=active)
        return [] if active else self._end(account_id, "account_disabled")

    async def revoke_all(
        self, account_id: str, at: datetime, *, tokens_until: datetime, reason: str
    ) -> list[str] | None:
        if await self.by_id(account_id) is None:
            return None
        return self._end(account_id, reason)

    async def seen(self, session_id: str, at: datetime) -> None:
        self.seen_at[session_id] = at


class LostRaceError(Exception):
    """What the database raises when a concurrent transaction got there first."""

    def __init__(self, race: LostRace) -> None:
        super().__init__(race)
        self.race = race


class FakeContactAlerts:
    def __init__(self) -> None:
        self.alerts: dict[tuple[str, int, str], ContactAlert] = {}

    async def keep(self, alert: ContactAlert) -> None:
        self.alerts[(alert.owner_id, alert.route, alert.channel)] = alert

    async def forget_owner(self, owner_id: str) -> None:
        self.alerts = {k: v for k, v in self.alerts.items() if k[0] != owner_id}

    async def forget_route(self, owner_id: str, role: str, channel: str) -> None:
        self.alerts = {
            k: v
            for k, v in self.alerts.items()
            if not (v.owner_id == owner_id and v.role == role and v.channel == channel)
        }

    async def of_school(self, school_id: str) -> list[ContactAlert]:
        found = [a for a in self.alerts.values() if a.school_id == school_id]
        return sorted(found, key=lambda a: a.reported_at, reverse=True)

    async def dismiss(self, school_id: str, owner_id: str, route: int, channel: str) -> bool:
        alert = self.alerts.get((owner_id, route, channel))
        if alert is None or alert.school_id != school_id:
            return False
        del self.alerts[(owner_id, route, channel)]
        return True


class FakeUnitOfWork(FakeTransaction):
    """Booking's repositories over the shared fake transaction.

    `races` makes the next commits lose to a concurrent transaction, in turn.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reference = FakeDirectory()
        self.appointments = FakeAppointments()
        self.waitlist = FakeWaitlist()
        self.dropins = FakeDropIns()
        self.busy = FakeBusyTimes(self.appointments)
        self.schools = FakeSchools(self.reference)
        self.students = FakeStudents(self.reference)
        self.placements = FakePlacements(self.reference, self.appointments, self.waitlist)
        self.directory = FakeDirectoryRecords()
        self.agreements = FakeAgreements()
        self.erasures = FakeErasures(self.reference, self.appointments)
        self.contact_alerts = FakeContactAlerts()
        self.reference_changes = 0
        self.races: list[LostRace] = []

    def _stores(self) -> tuple[dict[str, Any], ...]:
        return (
            self.appointments.__dict__,
            self.waitlist.__dict__,
            self.dropins.__dict__,
            self.directory.__dict__,
            self.agreements.__dict__,
            self.erasures.__dict__,
            self.contact_alerts.__dict__,
        )

    async def commit(self) -> None:
        if self.races:
            raise LostRaceError(self.races.pop(0))
        await super().commit()

    def reference_changed(self) -> None:
        self.reference_changes += 1

    def lost_race(self, exc: BaseException) -> LostRace | None:
        return exc.race if isinstance(exc, LostRaceError) else None
