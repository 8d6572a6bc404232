"""Booking keeps the contact routes notifications could not reach and shows them to the
school's staff."""

from __future__ import annotations

from pathlib import Path

from shared.auth.principal import Role
from shared.events import Envelope
from shared.events.directory import Channel
from shared.events.notifications import ContactUndeliverable, UndeliverableReason
from shared.messaging.kafka import KafkaPublisher
from tests.conftest import eventually
from tests.integration.booking.world import SCHOOL_A, SCHOOL_B, student_id, world


async def test_an_undeliverable_contact_is_shown_to_its_schools_staff_only(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        report = ContactUndeliverable(
            owner_id=student_id(3),
            owner_kind="student",
            school_id=SCHOOL_A,
            role="parent",
            route=1,
            channel=Channel.SMS,
            reason=UndeliverableReason.INVALID_ADDRESS,
        )
        envelope = Envelope.wrap(report, key=report.owner_id, producer="notifications")
        publisher = await KafkaPublisher.connect(broker, client_id="alerts-test")
        try:
            for _ in range(2):  # delivered twice, kept once
                await (
                    await publisher.publish(
                        envelope.topic, envelope.key, envelope.model_dump_json().encode()
                    )
                )
        finally:
            await publisher.close()

        async def listed() -> list[dict[str, object]]:
            response = await w.client.get(
                "/api/v1/contact-alerts", params={"school_id": SCHOOL_A}, headers=w.coordinator()
            )
            assert response.status == 200
            items: list[dict[str, object]] = (await response.json())["items"]
            return [a for a in items if a["owner_id"] == student_id(3)]  # the broker is shared

        [alert] = await eventually(listed, timeout=30)
        assert alert["owner_id"] == student_id(3) and alert["role"] == "parent"
        assert alert["channel"] == "sms" and alert["reason"] == "invalid_address"
        other = w.client.get(
            "/api/v1/contact-alerts",
            params={"school_id": SCHOOL_A},
            headers={"Authorization": f"Bearer {w.token(Role.COORDINATOR, 'c-b', (SCHOOL_B,))}"},
        )
        assert (await other).status == 403
        assert (
            await w.client.get(
                "/api/v1/contact-alerts", params={"school_id": SCHOOL_A}, headers=w.student(3)
            )
        ).status == 403

        # The school checks the number and dismisses the alert; another school cannot.
        dismissal = {"school_id": SCHOOL_A, "owner_id": student_id(3), "route": 1}
        dismissal["channel"] = "sms"
        other_school = w.token(Role.COORDINATOR, "c-b", (SCHOOL_B,))
        refused = await w.client.post(
            "/api/v1/contact-alerts/dismissals",
            json=dismissal,
            headers={"Authorization": f"Bearer {other_school}"},
        )
        assert refused.status == 403
        dismissed = await w.client.post(
            "/api/v1/contact-alerts/dismissals", json=dismissal, headers=w.coordinator()
        )
        assert dismissed.status == 204, await dismissed.text()
        assert await listed() == []
        again = await w.client.post(
            "/api/v1/contact-alerts/dismissals", json=dismissal, headers=w.coordinator()
        )
        assert again.status == 404


async def test_erasing_a_student_drops_their_contact_alerts(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        report = ContactUndeliverable(
            owner_id=student_id(4),
            owner_kind="student",
            school_id=SCHOOL_A,
            role="student",
            route=0,
            channel=Channel.SMS,
            reason=UndeliverableReason.UNSUBSCRIBED,
        )
        envelope = Envelope.wrap(report, key=report.owner_id, producer="notifications")
        publisher = await KafkaPublisher.connect(broker, client_id="alerts-test")
        try:
            await (
                await publisher.publish(
                    envelope.topic, envelope.key, envelope.model_dump_json().encode()
                )
            )
        finally:
            await publisher.close()

        async def alerts() -> list[object]:
            response = await w.client.get(
                "/api/v1/contact-alerts", params={"school_id": SCHOOL_A}, headers=w.coordinator()
            )
            items = (await response.json())["items"]
            return [a for a in items if a["owner_id"] == student_id(4)]

        await eventually(alerts, timeout=30)
        erased = await w.client.delete(f"/api/v1/students/{student_id(4)}", headers=w.coordinator())
        assert erased.status in (200, 204), await erased.text()
        await eventually(lambda: _none(alerts), timeout=30)


async def _none(check: object) -> bool:
    return not await check()  # type: ignore[operator]
