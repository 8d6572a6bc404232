"""Contacts follow the directory (newest revision wins, erasure leaves nothing personal) and
each kind of event reaches the right people by the right channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.notifications.adapters.orm import appointments, contacts, messages, reminders
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.devtools.smtp_sink import REFUSED_DOMAIN
from shared.events.booking import (
    AdviserClashDetected,
    AppointmentConfirmed,
    AppointmentRescheduled,
    DropInTurn,
    NoShowChase,
    WaitlistOfferEnded,
    WaitlistOfferMade,
)
from shared.events.directory import (
    AdviserUpserted,
    Channel,
    ContactChecked,
    ContactRole,
    ContactRoute,
    StaffUpserted,
    StudentErased,
    StudentUpserted,
)
from shared.events.placements import (
    AllocationPublished,
    AllocationWithdrawn,
    EmployerAllocationsPublished,
    EmployerPlaces,
    EmployerUpserted,
)
from tests.integration.notifications.harness import SCHOOL, World, world
from tests.integration.notifications.test_dispatch import appointment

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
PARENT = ContactRoute(
    role=ContactRole.PARENT,
    phone="+447700900456",
    email="parent@home.example",
    sms_consent=False,
    email_consent=True,
    preferred=[Channel.EMAIL],
)


async def phones(w: World, owner: str) -> list[str | None]:
    async with w.db.read_session() as s:
        query = sa.select(contacts.c.phone).where(contacts.c.owner_id == owner)
        return list((await s.execute(query)).scalars())


async def test_an_older_or_equal_revision_of_a_contact_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(phone="+447700900111")

        def upsert(phone: str, revision: int) -> StudentUpserted:
            route = ContactRoute(role=ContactRole.STUDENT, phone=phone, sms_consent=True)
            event = StudentUpserted(
                student_id=student, school_id=SCHOOL, year_group=11, contacts=[route]
            )
            # Producers that number their revisions add the field; older ones leave it out.
            object.__setattr__(event, "revision", revision)
            return event

        await w.deliver(upsert("+447700900222", 0))  # unnumbered: applied in arrival order
        assert await phones(w, student) == ["+447700900222"]
        await w.deliver(upsert("+447700900333", 5))
        await w.deliver(upsert("+447700900444", 4))  # older, arriving late
        await w.deliver(upsert("+447700900555", 5))  # the same revision again
        await w.deliver(upsert("+447700900666", 0))  # unnumbered after numbered: oldest
        assert await phones(w, student) == ["+447700900333"]
        await w.deliver(upsert("+447700900777", 6))
        assert await phones(w, student) == ["+447700900777"]


async def test_erasure_removes_contacts_reminders_and_every_message_body(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(parent=PARENT)
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=7))))
        await w.dispatch(NOW)
        assert len(await w.rows(messages.c.student_id == student)) >= 3
        await w.deliver(StudentErased(student_id=student, school_id=SCHOOL))
        assert await phones(w, student) == []
        rows = await w.rows()
        assert rows and all(r.student_id is None and r.body is None for r in rows)
        assert all(r.context is None and r.owner_id is None for r in rows)
        assert all(student not in r.recipient for r in rows)
        assert {r.status for r in rows} <= {"sent", "cancelled"}
        async with w.db.read_session() as s:
            assert (await s.scalar(sa.select(sa.func.count()).select_from(reminders))) == 0
            assert (await s.scalar(sa.select(sa.func.count()).select_from(appointments))) == 0
        assert await w.dispatch(NOW + timedelta(days=6, hours=8)) == 0


async def test_a_student_whose_details_arrive_after_the_booking_still_hears_of_it(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = "student-late-details"
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=7))))
        assert await w.rows() == []  # nobody to send to yet

        await w.student(student, parent=PARENT)
        rows = await w.rows(messages.c.student_id == student)
        assert sorted((r.kind, r.route) for r in rows) == [
            ("booking_confirmation", 0),
            ("booking_confirmation", 1),
            ("reminder_day_before", 0),
            ("reminder_same_day", 0),
        ]
        await w.run_until(NOW + timedelta(days=8))
        assert {r.status for r in await w.rows(messages.c.student_id == student)} == {"sent"}


async def test_a_number_the_school_checked_is_texted_again(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(email=None)
        storage = NotificationsStorage(w.db, clock=w.clock)
        async with storage.unit() as uow:
            await uow.contacts.mark_undeliverable(student, 0, "sms", "invalid_address")
            await uow.commit()
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=7))))
        assert await w.rows(messages.c.student_id == student) == []

        await w.deliver(ContactChecked(owner_id=student, route=0, channel=Channel.SMS))
        moved = appointment(student, NOW + timedelta(days=8), revision=2)
        await w.deliver(AppointmentRescheduled(**moved))
        rows = await w.rows(messages.c.student_id == student)
        assert "appointment_rescheduled" in {r.kind for r in rows}
        assert {r.channel for r in rows} == {"sms"}


async def test_a_parent_who_consented_gets_a_copy_by_their_own_channel(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(parent=PARENT)
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=7))))
        rows = await w.rows(messages.c.kind == "booking_confirmation")
        assert sorted((r.route, r.channel) for r in rows) == [(0, "sms"), (1, "email")]
        reminders_ = await w.rows(messages.c.kind.like("reminder_%"))
        assert {r.route for r in reminders_} == {0}  # reminders go to the student only


async def test_a_waitlist_offer_is_sent_at_once_and_withdrawn_when_it_ends(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        first, second = await w.student(), await w.student(phone="+447700900124")
        for offer, student in (("offer-1", first), ("offer-2", second)):
            await w.deliver(
                WaitlistOfferMade(
                    offer_id=offer,
                    school_id=SCHOOL,
                    student_id=student,
                    session_type="interview",
                    starts_at=NOW + timedelta(days=2),
                    ends_at=NOW + timedelta(days=2, minutes=40),
                    location="Careers room",
                    expires_at=NOW + timedelta(hours=4),
                )
            )
        await w.deliver(
            WaitlistOfferEnded(
                offer_id="offer-2", school_id=SCHOOL, student_id=second, outcome="declined"
            )
        )
        await w.dispatch(NOW)
        [text] = w.twilio.received
        assert (
            text["to"] == "+447700900123" and "before Tuesday 12 January at 14:00" in text["body"]
        )
        assert int(text["validity_period"]) == 4 * 3600


async def test_a_drop_in_turn_is_texted_and_a_no_show_chases_student_and_coordinator(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        coordinator = StaffUpserted(
            staff_id="coord-9",
            role="coordinator",
            school_ids=[SCHOOL],
            contacts=[
                ContactRoute(
                    role=ContactRole.STAFF, email="careers@school.example", email_consent=True
                )
            ],
        )
        await w.deliver(coordinator)
        await w.deliver(
            DropInTurn(session_id="d-1", school_id=SCHOOL, student_id=student, location="Library")
        )
        await w.deliver(
            NoShowChase(
                appointment_id="appt-missed",
                school_id=SCHOOL,
                student_id=student,
                coordinator_id="coord-9",
                starts_at=NOW - timedelta(hours=1),
            )
        )
        await w.dispatch(NOW)
        bodies = sorted(m["body"] for m in w.twilio.received)
        assert len(bodies) == 2
        assert any("your turn" in b and "Library" in b for b in bodies)
        assert any("We missed you" in b for b in bodies)
        [mail] = w.mail.messages
        assert mail["To"] == "careers@school.example"
        assert "did not attend" in mail.get_body(("plain",)).get_content()


async def test_a_clash_in_a_pas_own_calendar_is_emailed_to_the_pa_once_while_still_to_come(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        await w.deliver(
            AdviserUpserted(
                adviser_id="pa-9",
                school_ids=[SCHOOL],
                contacts=[
                    ContactRoute(
                        role=ContactRole.ADVISER,
                        email="pa@careers.example",
                        phone="+447700900999",
                        email_consent=True,
                        sms_consent=True,
                        preferred=[Channel.EMAIL],
                    )
                ],
            )
        )
        clash = AdviserClashDetected(
            appointment_id="6f1c2a7e-0000-4000-8000-00000000c1a5",
            revision=2,
            school_id=SCHOOL,
            adviser_id="pa-9",
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=2, minutes=40),
        )
        for _ in range(2):  # announced twice for one revision: one message
            await w.deliver(clash)
        await w.deliver(clash.model_copy(update={"appointment_id": "gone", "starts_at": NOW}))
        assert await w.dispatch(NOW) == 1
        [mail] = w.mail.messages
        assert mail["To"] == "pa@careers.example"
        text = mail.get_body(("plain",)).get_content()
        assert "busy" in text and "6f1c2a7e" in text and "Nothing has been cancelled" in text
        assert w.twilio.received == []


async def test_placements_reach_the_student_and_the_employer_and_a_friday_reminder_is_planned(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(parent=PARENT)
        await w.deliver(
            EmployerUpserted(employer_id="emp-1", contact_email="hr@employer.example"), key="emp-1"
        )
        week = date(2027, 6, 14)
        allocation = {
            "round_id": "r1",
            "student_id": student,
            "school_id": SCHOOL,
            "placement_id": "p1",
            "employer_id": "emp-1",
            "sector": "Engineering",
            "week_starts": week,
        }
        await w.deliver(AllocationPublished(**allocation))
        await w.deliver(
            EmployerAllocationsPublished(
                round_id="r1",
                employer_id="emp-1",
                places=[EmployerPlaces(placement_id="p1", week_starts=week, students=1)],
            )
        )
        rows = await w.rows()
        assert sorted((r.kind, r.channel) for r in rows) == [
            ("employer_list", "email"),
            ("placement_published", "email"),  # the parent's copy
            ("placement_published", "sms"),
            ("placement_starting", "sms"),
        ]
        [friday] = [r for r in rows if r.kind == "placement_starting"]
        assert friday.due_at == datetime(2027, 6, 11, 15, 0, tzinfo=UTC)  # 16:00 BST
        await w.dispatch(NOW)
        assert {m["To"] for m in w.mail.messages} == {"hr@employer.example", "parent@home.example"}
        await w.deliver(AllocationWithdrawn(**allocation, withdrawn_by="student"))
        [after] = await w.rows(messages.c.kind == "placement_starting")
        assert after.status == "cancelled"


async def test_a_refused_mailbox_marks_the_route_and_tells_booking(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(
            phone=None, email=f"nobody@{REFUSED_DOMAIN}", preferred=(Channel.EMAIL,)
        )
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        await w.dispatch(NOW)
        [row] = await w.rows(messages.c.kind == "booking_confirmation")
        assert row.status == "undeliverable" and row.error == "smtp-550"
        assert await w.outbox_types() == ["notifications.contact.undeliverable"]
        async with w.db.read_session() as s:
            mark = await s.scalar(
                sa.select(contacts.c.email_undeliverable).where(contacts.c.owner_id == student)
            )
        assert mark == "invalid_address"
