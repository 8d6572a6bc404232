"""The service end to end on the real broker: events in, texts out, Twilio's signed
webhooks back; forged ones refused; the message log audited; a student's own preferences."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.notifications.adapters.orm import (
    contact_owners,
    message_reads,
    messages,
    sms_opt_outs,
)
from services.notifications.entrypoints.context import NOTIFICATIONS
from services.notifications.entrypoints.webhooks import INBOUND_PATH, STATUS_PATH
from shared.auth.principal import Role
from shared.events.booking import AppointmentConfirmed, AppointmentRescheduled
from shared.events.directory import Channel, ContactRole, ContactRoute, StudentUpserted
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.integration.notifications.service import Running, running_service
from tests.support import bearer, token_for

SCHOOL = "school-s"


def fresh_phone() -> str:
    """A number no earlier test used: each service replays the shared broker's history."""
    return f"+447700{secrets.randbelow(800_000) + 100_000}"


async def _student(service: Running, *, phone: str, email: str | None = None) -> str:
    student_id = f"student-{uuid.uuid4().hex[:12]}"
    route = ContactRoute(
        role=ContactRole.STUDENT,
        phone=phone,
        email=email,
        sms_consent=True,
        email_consent=email is not None,
        preferred=[Channel.SMS],
    )
    await service.publish(
        StudentUpserted(student_id=student_id, school_id=SCHOOL, year_group=10, contacts=[route]),
        key=student_id,
    )

    async def known() -> bool:
        async with service.client.app[NOTIFICATIONS].db.read_session() as s:
            found = await s.scalar(
                sa.select(contact_owners.c.owner_id).where(contact_owners.c.owner_id == student_id)
            )
        return found is not None

    await eventually(known, timeout=30)  # the directory is imported long before bookings
    return student_id


def _appointment(student_id: str, revision: int = 1, days: int = 5) -> dict[str, object]:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
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
    }


async def _outbox_types(service: Running, *, about: str) -> list[str]:
    async with service.client.app[NOTIFICATIONS].db.read_session() as s:
        query = sa.select(outbox.c.event_type).where(outbox.c.body.contains(about))
        return list((await s.execute(query.order_by(outbox.c.seq))).scalars())


async def test_an_event_delivered_twice_through_the_broker_is_one_text_whose_delivery_is_recorded(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        phone = fresh_phone()
        student = await _student(service, phone=phone)
        envelope = await service.publish(
            AppointmentConfirmed(**_appointment(student)), key=f"appt-{student}"
        )
        await service.publish_envelope(envelope)  # a relay that crashed before marking it

        def confirmation() -> list[dict[str, object]]:
            return [m for m in service.twilio.received if m["to"] == phone]

        await eventually(confirmation, timeout=30)
        [row] = await eventually(
            lambda: service.rows(
                messages.c.student_id == student, messages.c.provider_status == "delivered"
            ),
            timeout=10,
        )
        assert row.status == "delivered"
        assert len(confirmation()) == 1
        assert ("delivered", 204) in service.twilio.callbacks
        metrics = await (await service.client.get("/metrics")).text()
        assert 'signpost_messages_sent_total{channel="sms",kind="booking_confirmation"}' in metrics
        assert 'signpost_messages_delivered_total{channel="sms",kind="booking_confirmation"}' in (
            metrics
        )
        assert "signpost_message_dispatch_lag_seconds_count" in metrics
        page = await service.client.get("/dev/outbox")
        assert page.status == 200 and "Your careers appointment is booked" in await page.text()
        types = await _outbox_types(service, about=row.id)
        assert types == ["notifications.message.status_changed"] * 2  # sent, delivered


async def test_a_forged_or_unsigned_callback_gets_403_and_changes_nothing(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        student = await _student(service, phone=fresh_phone())
        await service.publish(AppointmentConfirmed(**_appointment(student)), key=student)
        [row] = await eventually(
            lambda: service.rows(
                messages.c.student_id == student, messages.c.provider_status == "delivered"
            ),
            timeout=30,
        )
        forged = {"MessageSid": row.provider_id, "MessageStatus": "failed", "ErrorCode": "30003"}
        client = service.client
        unsigned = await client.post(STATUS_PATH, data=forged)
        wrong = await client.post(
            STATUS_PATH, data=forged, headers={"X-Twilio-Signature": "bm90IHNpZ25lZA=="}
        )
        stop = await client.post(
            INBOUND_PATH,
            data={"From": fresh_phone(), "Body": "STOP"},
            headers={"X-Twilio-Signature": "bm90IHNpZ25lZA=="},
        )
        for response in (unsigned, wrong, stop):
            assert response.status == 403
            assert response.content_type == "application/problem+json"
        [after] = await service.rows(messages.c.id == row.id)
        assert after.status == "delivered" and after.error is None
        async with client.app[NOTIFICATIONS].db.read_session() as s:
            assert (await s.scalar(sa.select(sa.func.count()).select_from(sms_opt_outs))) == 0


async def test_stop_by_text_stops_every_later_sms_to_that_number(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        phone = fresh_phone()
        student = await _student(service, phone=phone)
        status = await service.twilio.post_signed(
            service.public_url + INBOUND_PATH, {"From": phone, "Body": " stop ", "To": "+44"}
        )
        assert status == 200
        await service.publish(AppointmentConfirmed(**_appointment(student)), key=student)
        await service.publish(AppointmentRescheduled(**_appointment(student, 2, 6)), key=student)

        async def settled() -> list[object]:
            found = await service.rows(messages.c.student_id == student)
            kinds = {r.kind for r in found}
            now = datetime.now(UTC)
            done = all(r.status not in ("pending", "sending") for r in found if r.due_at <= now)
            return found if "appointment_rescheduled" in kinds and done else []

        found = await eventually(settled, timeout=30)
        due = [r for r in found if r.due_at <= datetime.now(UTC)]
        # The confirmation may have been withdrawn by the move before its turn came.
        assert {r.status for r in due} <= {"suppressed", "cancelled"}
        [moved] = [r for r in due if r.kind == "appointment_rescheduled"]
        assert moved.status == "suppressed" and moved.error == "opted-out"
        assert [m for m in service.twilio.received if m["to"] == phone] == []
        help_reply = await service.twilio.post_signed(
            service.public_url + INBOUND_PATH, {"From": phone, "Body": "HELP"}
        )
        assert help_reply == 200


async def test_the_message_log_is_for_the_schools_staff_and_every_read_is_recorded(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        student = await _student(service, phone=fresh_phone())
        await service.publish(AppointmentConfirmed(**_appointment(student)), key=student)
        await eventually(
            lambda: service.rows(
                messages.c.student_id == student, messages.c.status == "delivered"
            ),
            timeout=30,
        )
        staff = token_for(tmp_path, user_id="coord-1", role=Role.COORDINATOR, school_ids=[SCHOOL])
        other = token_for(tmp_path, user_id="coord-2", role=Role.COORDINATOR, school_ids=["x"])
        pupil = token_for(tmp_path, user_id=student, role=Role.STUDENT, school_ids=[SCHOOL])
        client = service.client
        response = await client.get(
            "/api/v1/messages", params={"student_id": student}, headers=bearer(staff)
        )
        assert response.status == 200
        items = (await response.json())["items"]
        assert {i["kind"] for i in items} == {
            "booking_confirmation",
            "reminder_day_before",
            "reminder_same_day",
        }
        assert all(i["role"] == "student" for i in items)
        assert not {"body", "phone", "email", "context"} & set(items[0])
        by_appointment = await client.get(
            "/api/v1/messages",
            params={"appointment_id": f"appt-{student}"},
            headers=bearer(staff),
        )
        assert len((await by_appointment.json())["items"]) == 3
        refused = await client.get(
            "/api/v1/messages", params={"student_id": student}, headers=bearer(other)
        )
        assert refused.status == 403
        assert (
            await client.get(
                "/api/v1/messages", params={"student_id": student}, headers=bearer(pupil)
            )
        ).status == 403
        neither = await client.get("/api/v1/messages", headers=bearer(staff))
        assert neither.status == 422
        async with client.app[NOTIFICATIONS].db.read_session() as s:
            reads = (await s.execute(sa.select(message_reads))).all()
        assert [(r.reader_id, r.rows) for r in reads] == [("coord-1", 3), ("coord-1", 3)]


async def test_a_student_chooses_email_and_later_messages_follow_the_choice(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        student = await _student(service, phone=fresh_phone(), email="me@pupil.example")
        pupil = bearer(token_for(tmp_path, user_id=student, role=Role.STUDENT, school_ids=[SCHOOL]))
        client = service.client

        async def known() -> bool:
            return (await client.get("/api/v1/me/contact-preferences", headers=pupil)).status == 200

        await eventually(known, timeout=30)
        body = {"channel": "email", "parent_copy": False, "opted_out": False}
        put = await client.put("/api/v1/me/contact-preferences", json=body, headers=pupil)
        assert put.status == 200 and await put.json() == body
        got = await client.get("/api/v1/me/contact-preferences", headers=pupil)
        assert await got.json() == body
        bad = await client.put(
            "/api/v1/me/contact-preferences", json={"channel": "pigeon"}, headers=pupil
        )
        assert bad.status == 422
        assert (await bad.json())["errors"][0]["field"] == "channel"
        await service.publish(AppointmentConfirmed(**_appointment(student)), key=student)
        [row] = await eventually(
            lambda: service.rows(messages.c.student_id == student, messages.c.status == "sent"),
            timeout=30,
        )
        assert row.channel == "email"
        await eventually(lambda: service.mail.messages, timeout=10)
        assert service.mail.messages[0]["To"] == "me@pupil.example"
