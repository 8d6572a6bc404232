"""The directory import, saving an agreement and erasing a student over a fake unit of work."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from services.booking.application.agreements import (
    AgreementTerms,
    AttendanceTerms,
    SaveAgreement,
    UnknownAdvisers,
    UnknownSchool,
    save_agreement,
)
from services.booking.application.contact_alerts import DismissAlert, dismiss_alert
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.application.directory_rows import natural_id
from services.booking.application.erasure import EraseStudent, erase_student
from services.booking.application.ports import ContactAlert, StudentOnFile
from services.booking.domain.errors import UnknownStudent
from services.booking.domain.model import AppointmentStatus, Role
from shared.csvimport import CsvImportError, parse_csv
from shared.events.booking import AppointmentCancelled
from shared.events.directory import ContactChecked, SchoolUpserted, StudentErased, StudentUpserted
from shared.events.identity import SessionRevoked
from tests.unit.booking.example_school import SCHOOL_ID, london
from tests.unit.booking.fakes import FakeUnitOfWork
from tests.unit.booking.test_use_cases import NOW, booked, fake_uow

pytestmark = pytest.mark.unit

SCHOOLS = """id,name,day_starts,day_ends
sch-1,Ashcombe Academy,08:30,15:30
sch-2,Brookfield School,08:45,15:15
"""
STUDENTS = """school_id,reference,year_group,student_phone,student_sms_consent
sch-1,A001,11,+447700900001,true
sch-9,A002,10,,
sch-1,A003,14,,
"""


def importing(kind: str, text: str) -> ImportDirectory:
    spec = KINDS[kind]
    return ImportDirectory(kind, parse_csv(text, spec.row, unique=spec.unique))


async def test_a_valid_file_is_written_once_and_a_second_import_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    first = await import_directory(importing("schools", SCHOOLS), uow, NOW)
    assert (first.rows, first.written, first.unchanged) == (2, 2, 0)
    assert set(uow.directory.rows("schools")) == {"sch-1", "sch-2"}
    assert [type(e) for e in uow.events] == [SchoolUpserted] * 2
    assert [e.revision for e in uow.events if isinstance(e, SchoolUpserted)] == [1, 1]
    assert (uow.commits, uow.reference_changes) == (1, 1)

    again = await import_directory(importing("schools", SCHOOLS), uow, NOW)
    assert (again.written, again.unchanged) == (0, 2)
    assert len(uow.events) == 2


async def test_a_file_naming_an_unknown_school_is_refused_whole_by_line_and_field() -> None:
    uow = FakeUnitOfWork()
    await import_directory(importing("schools", SCHOOLS), uow, NOW)
    with pytest.raises(CsvImportError) as refused:
        parse_csv(STUDENTS, KINDS["students"].row, unique=KINDS["students"].unique)
    assert {(e.line, e.field) for e in refused.value.errors} == {(4, "year_group")}

    good_rows_only = "\n".join(STUDENTS.splitlines()[:3]) + "\n"
    with pytest.raises(CsvImportError) as unknown:
        await import_directory(importing("students", good_rows_only), uow, NOW)
    assert [(e.line, e.field, e.message) for e in unknown.value.errors] == [
        (3, "school_id", "no such record: sch-9")
    ]
    assert uow.directory.rows("students") == {}
    assert (uow.commits, len(uow.events)) == (1, 2)  # the schools' import only


async def test_a_students_event_carries_the_revision_raised_by_its_contacts_change() -> None:
    uow = FakeUnitOfWork()
    await import_directory(importing("schools", SCHOOLS), uow, NOW)
    one = "school_id,reference,year_group,student_phone,student_sms_consent\n"
    await import_directory(
        importing("students", one + "sch-1,A001,11,+447700900001,true\n"), uow, NOW
    )
    await import_directory(
        importing("students", one + "sch-1,A001,11,+447700900002,true\n"), uow, NOW
    )
    revisions = [e.revision for e in uow.events if isinstance(e, StudentUpserted)]
    assert revisions == [1, 2]
    sam = natural_id("student", "sch-1", "A001")
    assert uow.directory.rows("students")[sam]["revision"] == 2


def alert(owner_id: str, school_id: str = "sch-1", route: int = 0) -> ContactAlert:
    return ContactAlert(
        owner_id=owner_id,
        owner_kind="student",
        role="student",
        route=route,
        channel="sms",
        reason="invalid_address",
        school_id=school_id,
        reported_at=NOW,
    )


async def test_a_new_number_drops_its_alert_and_other_changes_keep_theirs() -> None:
    uow = FakeUnitOfWork()
    await import_directory(importing("schools", SCHOOLS), uow, NOW)
    head = "school_id,reference,year_group,student_phone,student_sms_consent,parent_email\n"

    async def roster(line: str) -> None:
        await import_directory(importing("students", head + line), uow, NOW)

    await roster("sch-1,A001,11,+447700900001,true,mum@home.example\n")
    sam = natural_id("student", "sch-1", "A001")
    await uow.contact_alerts.keep(alert(sam))  # the student's phone failed
    await roster("sch-1,A001,11,+447700900001,true,mum@home.example\n")
    assert list(uow.contact_alerts.alerts) == [(sam, 0, "sms")], "the same details: kept"
    await roster("sch-1,A001,11,+447700900001,false,mum@home.example\n")
    assert list(uow.contact_alerts.alerts) == [(sam, 0, "sms")], "consent alone: kept"
    await roster("sch-1,A001,11,+447700900001,false,dad@home.example\n")
    assert list(uow.contact_alerts.alerts) == [(sam, 0, "sms")], "the parent's email: kept"
    await roster("sch-1,A001,11,+447700900002,true,dad@home.example\n")
    assert uow.contact_alerts.alerts == {}, "a new number is tried afresh"


async def test_staff_dismiss_only_their_own_schools_alert() -> None:
    uow = FakeUnitOfWork()
    await uow.contact_alerts.keep(alert("s-1"))
    elsewhere = DismissAlert("sch-2", "s-1", 0, "sms")
    assert await dismiss_alert(elsewhere, uow) is False
    assert await dismiss_alert(DismissAlert("sch-1", "s-1", 0, "sms"), uow) is True
    assert uow.contact_alerts.alerts == {}
    [checked] = uow.events
    assert isinstance(checked, ContactChecked)
    assert (checked.owner_id, checked.route, checked.channel) == ("s-1", 0, "sms")
    assert await dismiss_alert(DismissAlert("sch-1", "s-1", 0, "sms"), uow) is False
    assert len(uow.events) == 1, "nothing to announce for an alert that was not there"


def terms(*advisers: str) -> AgreementTerms:
    return AgreementTerms(
        confidential_room="Careers room",
        attendances=[
            AttendanceTerms(adviser_id=a, weekdays=[0], start=time(9), end=time(12))
            for a in advisers
        ],
    )


async def test_saving_an_agreement_stores_its_terms_at_the_time_given_and_drops_the_cache() -> None:
    uow = FakeUnitOfWork()
    uow.directory.rows("schools")["sch-1"] = {"id": "sch-1"}
    uow.directory.rows("advisers")["pa-1"] = {"id": "pa-1"}
    saved = await save_agreement(SaveAgreement("sch-1", "2026/27", terms("pa-1")), uow, NOW)
    assert saved.adviser_ids == ("pa-1",)
    values = uow.agreements.saved[("sch-1", "2026/27")]
    assert (values["updated_at"], values["first_day"].isoformat()) == (NOW, "2026-09-01")
    assert await uow.agreements.terms("sch-1", "2026/27") == terms("pa-1")
    assert (uow.commits, uow.reference_changes) == (1, 1)


async def test_an_agreement_for_an_unknown_school_or_naming_unknown_advisers_is_refused() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(UnknownSchool):
        await save_agreement(SaveAgreement("sch-1", "2026/27", terms("pa-1")), uow, NOW)
    uow.directory.rows("schools")["sch-1"] = {"id": "sch-1"}
    uow.directory.rows("advisers")["pa-1"] = {"id": "pa-1"}
    with pytest.raises(UnknownAdvisers) as unknown:
        await save_agreement(SaveAgreement("sch-1", "2026/27", terms("pa-1", "pa-9")), uow, NOW)
    assert unknown.value.adviser_ids == ["pa-9"]
    assert (uow.agreements.saved, uow.commits) == ({}, 0)


async def test_erasing_a_student_cancels_what_is_upcoming_and_keeps_the_past_anonymously() -> None:
    uow = fake_uow()
    upcoming = await booked(uow, "student-1")
    uow.erasures.on_file["student-1"] = StudentOnFile(SCHOOL_ID, 11, revision=3)
    erased = await erase_student(
        EraseStudent("student-1", Role.COORDINATOR),
        uow,
        NOW,
        timedelta(hours=4),
        token_ttl=timedelta(minutes=15),
    )
    assert (erased.cancelled_appointments, erased.kept_anonymously) == (1, 1)
    kept = uow.appointments.rows[upcoming.id]
    assert kept.status is AppointmentStatus.CANCELLED
    assert kept.student_id.startswith("erased-") and kept.cancel_reason is None
    cancelled, gone = uow.events
    assert isinstance(cancelled, AppointmentCancelled)
    assert isinstance(gone, StudentErased)
    assert (gone.student_id, gone.revision) == ("student-1", 4)
    assert uow.erasures.redacted == {"student-1": frozenset({StudentErased.event_type})}
    assert uow.commits == 1


async def test_erasing_a_student_not_on_file_changes_nothing() -> None:
    uow = fake_uow()
    with pytest.raises(UnknownStudent):
        await erase_student(
            EraseStudent("student-9", Role.ADMIN),
            uow,
            NOW,
            timedelta(hours=4),
            token_ttl=timedelta(minutes=15),
        )
    assert (uow.commits, uow.events, uow.erasures.forgotten) == (0, [], [])


async def test_erasing_a_student_revokes_their_open_sessions_in_every_service() -> None:
    uow = fake_uow()
    uow.erasures.on_file["student-1"] = StudentOnFile(SCHOOL_ID, 11, revision=3)
    uow.erasures.sessions["student-1"] = ["session-1", "session-2"]
    await erase_student(
        EraseStudent("student-1", Role.ADMIN),
        uow,
        NOW,
        timedelta(hours=4),
        token_ttl=timedelta(minutes=15),
    )
    revoked = [e for e in uow.events if isinstance(e, SessionRevoked)]
    assert [e.session_id for e in revoked] == ["session-1", "session-2"]
    assert {e.expires_at for e in revoked} == {NOW + timedelta(minutes=15, seconds=10)}


async def test_an_appointment_already_past_is_not_cancelled_by_an_erasure() -> None:
    uow = fake_uow()
    past = await booked(uow, "student-1")
    later = london(2025, 3, 4, 9)
    uow.erasures.on_file["student-1"] = StudentOnFile(SCHOOL_ID, 11, revision=1)
    erased = await erase_student(
        EraseStudent("student-1", Role.ADMIN),
        uow,
        later,
        timedelta(hours=4),
        token_ttl=timedelta(minutes=15),
    )
    assert (erased.cancelled_appointments, erased.kept_anonymously) == (0, 1)
    assert uow.appointments.rows[past.id].status is AppointmentStatus.CONFIRMED
    assert [type(e) for e in uow.events] == [StudentErased]
