"""Messages are rows: written once, claimed by one dispatcher, sent once, never late.

Real database (SQLite and PostgreSQL), the real Twilio SDK against the fake provider on
loopback, a real SMTP server; the clock is the test's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.notifications.adapters import message_store
from services.notifications.adapters.orm import messages
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.preferences import StartSms, StopSms, start_sms, stop_sms
from services.notifications.application.sending import Rendered
from services.notifications.devtools.fake_twilio import INVALID_NUMBER
from shared.events.booking import AppointmentCancelled, AppointmentConfirmed, AppointmentRescheduled
from shared.events.directory import Channel
from tests.integration.notifications.harness import SCHOOL, World, world

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # a Tuesday morning in term


def appointment(student_id: str, starts: datetime, revision: int = 1, **extra: object) -> dict:
    return {
        "appointment_id": f"appt-{student_id}",
        "revision": revision,
        "school_id": SCHOOL,
        "student_id": student_id,
        "adviser_id": "pa-1",
        "session_type": "interview",
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=40),
        "location": "Careers room",
        **extra,
    }


async def sent(w: World, kind: str | None = None) -> list:
    rows = await w.rows(messages.c.status == "sent")
    return [r for r in rows if kind is None or r.kind == kind]


async def test_a_booking_is_confirmed_by_sms_through_the_twilio_api_with_a_validity_period(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        starts = NOW + timedelta(days=7)
        await w.deliver(AppointmentConfirmed(**appointment(student, starts)))
        assert await w.dispatch() == 1
        [text] = w.twilio.received
        assert text["to"] == "+447700900123"
        assert "careers appointment" in text["body"]
        assert "Tuesday 19 January at 10:00" in text["body"]
        assert int(text["validity_period"]) == 36000  # capped at Twilio's maximum
        [row] = await sent(w, "booking_confirmation")
        assert row.provider_id == text["sid"] and row.handed_at == NOW


async def test_an_event_handled_twice_writes_one_message_and_sends_it_once(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        event = AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3)))
        envelope = await w.deliver(event)
        await w.deliver(event, envelope=envelope)
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        rows = await w.rows(messages.c.kind == "booking_confirmation")
        assert len(rows) == 1
        await w.dispatch()
        await w.dispatch()
        assert len(w.twilio.received) == 1


async def test_a_cancellation_before_the_reminder_is_due_sends_no_reminder(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        starts = NOW + timedelta(days=7)
        await w.deliver(AppointmentConfirmed(**appointment(student, starts)))
        await w.dispatch()
        w.clock.now = NOW + timedelta(days=2)
        await w.deliver(
            AppointmentCancelled(**appointment(student, starts, revision=2, cancelled_by="student"))
        )
        await w.run_until(starts)
        kinds = [m["body"] for m in w.twilio.received]
        assert len(kinds) == 2  # the confirmation, then the cancellation notice
        assert "cancelled" in kinds[1]
        reminders = await w.rows(messages.c.kind.like("reminder_%"))
        assert reminders and all(r.status == "cancelled" for r in reminders)


async def test_a_rescheduled_appointment_moves_its_reminders(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        first, moved = NOW + timedelta(days=7), NOW + timedelta(days=14)
        await w.deliver(AppointmentConfirmed(**appointment(student, first)))
        await w.deliver(AppointmentRescheduled(**appointment(student, moved, revision=2)))
        pending = await w.rows(messages.c.status == "pending")
        reminders = [r for r in pending if r.kind.startswith("reminder_")]
        assert {r.kind for r in reminders} == {"reminder_day_before", "reminder_same_day"}
        assert all(moved - timedelta(days=1) <= r.due_at < moved for r in reminders)
        assert {r.kind for r in pending} >= {"appointment_rescheduled"}
        await w.run_until(moved)
        bodies = [m["body"] for m in w.twilio.received]
        assert not any("Tuesday 19 January" in b and "Reminder" in b for b in bodies)
        assert sum("Tuesday 26 January" in b for b in bodies) == 3  # moved, day before, today


async def test_a_dispatcher_killed_after_claiming_is_relieved_once_its_lease_expires(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        async with w.db.session() as s:  # the first replica claims, commits, and dies
            [claimed] = await message_store.claim_due(s, NOW, limit=10, lease=timedelta(minutes=2))
        assert await w.dispatch(NOW + timedelta(minutes=1)) == 0  # still leased
        assert w.twilio.received == []
        assert await w.dispatch(NOW + timedelta(minutes=3)) == 1
        assert len(w.twilio.received) == 1
        async with w.db.session() as s:  # the dead replica's late outcome changes nothing
            assert not await message_store.finish(s, claimed, NOW, status="failed")
        [row] = await sent(w)
        assert row.attempts == 2


async def test_a_restart_with_pending_messages_sends_each_once(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        students = [await w.student(phone=f"+4477009001{n:02d}") for n in range(5)]
        for student in students:
            await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        assert len(await w.rows(messages.c.status == "pending")) >= 5
        # Each round is a freshly started process: nothing but the rows carries over.
        for minutes in (0, 0, 1, 2):
            await w.dispatcher(batch=2).dispatch_due(NOW + timedelta(minutes=minutes))
        confirmations = [m for m in w.twilio.received if "is booked" in m["body"]]
        assert sorted(m["to"] for m in confirmations) == sorted(
            f"+4477009001{n:02d}" for n in range(5)
        )


async def test_nothing_is_sent_after_the_moment_it_is_about(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        starts = NOW + timedelta(hours=3)
        await w.deliver(AppointmentConfirmed(**appointment(student, starts)))
        assert await w.dispatch(starts + timedelta(minutes=1)) >= 1
        assert w.twilio.received == []
        statuses = {r.status for r in await w.rows()}
        assert statuses == {"expired"}


async def test_a_late_sms_carries_only_the_time_left_as_its_validity_period(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        starts = NOW + timedelta(hours=3)
        await w.deliver(AppointmentConfirmed(**appointment(student, starts)))
        await w.dispatch(NOW + timedelta(hours=2, minutes=50))
        assert w.twilio.received
        assert {int(m["validity_period"]) for m in w.twilio.received} == {600}


async def test_a_provider_outage_is_retried_later_and_then_sent(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        w.twilio.fail_next = 1
        await w.dispatch(NOW)
        [row] = await w.rows(messages.c.kind == "booking_confirmation")
        assert row.status == "pending" and row.error == "twilio-20500"
        assert row.due_at == NOW + timedelta(seconds=30)
        assert await w.dispatch(NOW + timedelta(seconds=10)) == 0
        await w.dispatch(NOW + timedelta(seconds=30))
        assert len(w.twilio.received) == 1


async def test_an_invalid_number_marks_the_contact_and_tells_booking(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(phone=INVALID_NUMBER)
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(days=3))))
        await w.dispatch(NOW)
        [row] = await w.rows(messages.c.kind == "booking_confirmation")
        assert row.status == "undeliverable" and row.error == "twilio-21211"
        assert await w.outbox_types() == ["notifications.contact.undeliverable"]
        # Later messages to that number are not attempted; email is used where allowed.
        await w.deliver(AppointmentRescheduled(**appointment(student, NOW + timedelta(days=4), 2)))
        moved = await w.rows(messages.c.kind == "appointment_rescheduled")
        assert [m.channel for m in moved] == ["email"]


@pytest.mark.parametrize(
    "night, morning",
    [
        # The night the clocks go forward (GMT to BST) and the night they go back.
        (datetime(2027, 3, 27, 23, 30, tzinfo=UTC), datetime(2027, 3, 28, 7, 0, tzinfo=UTC)),
        (datetime(2027, 10, 30, 22, 30, tzinfo=UTC), datetime(2027, 10, 31, 8, 0, tzinfo=UTC)),
    ],
)
async def test_a_message_written_at_night_waits_for_eight_in_the_morning_across_clock_changes(
    database_url: str, tmp_path: Path, night: datetime, morning: datetime
) -> None:
    async with world(database_url, tmp_path, now=night) as w:
        student = await w.student()
        await w.deliver(AppointmentConfirmed(**appointment(student, night + timedelta(days=3))))
        [row] = await w.rows(messages.c.kind == "booking_confirmation")
        assert row.due_at == morning
        assert row.due_at.astimezone(LONDON).hour == 8
        assert await w.dispatch(morning - timedelta(minutes=1)) == 0
        assert await w.dispatch(morning) == 1


async def test_email_confirmations_carry_an_invitation_and_cancellations_withdraw_it(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student(phone=None, preferred=(Channel.EMAIL,))
        starts = NOW + timedelta(days=7)
        await w.deliver(AppointmentConfirmed(**appointment(student, starts)))
        await w.dispatch(NOW)
        w.clock.now = NOW + timedelta(hours=1)
        await w.deliver(
            AppointmentCancelled(**appointment(student, starts, revision=2, cancelled_by="staff"))
        )
        await w.dispatch(NOW + timedelta(hours=1))
        booked, cancelled = w.mail.messages
        assert booked["To"] == "pupil@school.example"
        assert booked.get_body(("plain",)) is not None and booked.get_body(("html",)) is not None
        invites = [
            part.get_content()
            for message in (booked, cancelled)
            for part in message.iter_attachments()
            if part.get_content_type() == "text/calendar"
        ]
        assert "METHOD:REQUEST" in invites[0] and "SEQUENCE:1" in invites[0]
        assert "METHOD:CANCEL" in invites[1] and "SEQUENCE:2" in invites[1]
        uid = [line for line in invites[0].splitlines() if line.startswith("UID:")]
        assert uid and uid[0] in invites[1].splitlines()


async def test_stop_withdraws_a_reminder_that_is_already_due(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        student = await w.student()
        await w.deliver(AppointmentConfirmed(**appointment(student, NOW + timedelta(hours=3))))
        await w.dispatch(NOW)
        assert len(w.twilio.received) == 1
        [reminder] = await w.rows(messages.c.kind == "reminder_same_day")
        at_due = NotificationsStorage(w.db, clock=lambda: reminder.due_at)
        assert await stop_sms(StopSms("+447700900123"), at_due.unit()) == 1
        await w.dispatch(reminder.due_at)
        assert len(w.twilio.received) == 1
        [after] = await w.rows(messages.c.id == reminder.id)
        assert after.status == "suppressed" and after.error == "opted-out"
        # START lets later texts through again
        await start_sms(StartSms("+447700900123"), at_due.unit())
        await w.deliver(AppointmentRescheduled(**appointment(student, NOW + timedelta(hours=4), 2)))
        await w.dispatch(reminder.due_at)
        assert "moved" in w.twilio.received[-1]["body"]


class BrokenFor(Templates):
    """Wording that fails for one room, as a template with a mistake would."""

    def render(self, kind: str, channel: str, variant: str, context: dict) -> Rendered:
        if context.get("location") == "Broken room":
            raise RuntimeError("template error")
        return super().render(kind, channel, variant, context)


async def test_a_message_that_cannot_be_rendered_is_retried_then_failed_without_holding_others(
    database_url: str, tmp_path: Path
) -> None:
    async with world(database_url, tmp_path, now=NOW) as w:
        broken = await w.student(phone="+447700900301")
        fine = await w.student(phone="+447700900302")
        starts = NOW + timedelta(days=3)
        await w.deliver(AppointmentConfirmed(**appointment(broken, starts, location="Broken room")))
        await w.deliver(AppointmentConfirmed(**appointment(fine, starts)))
        moment = NOW
        for _ in range(5):
            await w.dispatch(moment, templates=BrokenFor())
            moment += timedelta(hours=1)
        assert [m["to"] for m in w.twilio.received] == ["+447700900302"]
        [row] = await w.rows(
            messages.c.student_id == broken, messages.c.kind == "booking_confirmation"
        )
        assert row.status == "failed" and row.error == "RuntimeError" and row.attempts == 5
