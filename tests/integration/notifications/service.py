"""The notifications service in-process on a real broker and database, sending through the
fake Twilio server and a real SMTP server, reachable at the public URL it signs for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from services.notifications.adapters.orm import messages
from services.notifications.bootstrap import create_app
from services.notifications.devtools.fake_twilio import FakeTwilio
from services.notifications.devtools.smtp_sink import SinkHandler, start_sink
from services.notifications.entrypoints.context import NOTIFICATIONS
from services.notifications.settings import NotificationsSettings
from shared.devbroker import free_port
from shared.events import Envelope, EventPayload
from shared.http.app import MESSAGING
from shared.messaging.kafka import KafkaPublisher
from tests.integration.notifications.harness import ACCOUNT, TOKEN, fake_twilio_server
from tests.support import settings_for, start_at_the_end


@dataclass
class Running:
    client: TestClient[Any, Any]
    public_url: str
    twilio: FakeTwilio
    mail: SinkHandler
    publisher: KafkaPublisher
    settings: NotificationsSettings

    async def publish(self, payload: EventPayload, *, key: str) -> Envelope:
        envelope = Envelope.wrap(payload, key=key, producer="test")
        await self.publish_envelope(envelope)
        return envelope

    async def publish_envelope(self, envelope: Envelope) -> None:
        delivery = await self.publisher.publish(
            envelope.topic, envelope.key, envelope.model_dump_json().encode()
        )
        await delivery

    async def rows(self, *where: Any) -> list[Any]:
        db = self.client.app[NOTIFICATIONS].db
        async with db.read_session() as s:
            return list((await s.execute(sa.select(messages).where(*where))).all())


@asynccontextmanager
async def running_service(
    database_url: str, broker: str, tmp_path: Path, **extra: str
) -> AsyncIterator[Running]:
    controller, mail = start_sink(smtp_port := free_port())
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    async with fake_twilio_server() as (fake, base_url):
        settings = settings_for(
            NotificationsSettings,
            database_url=database_url,
            broker=broker,
            data_dir=tmp_path,
            TWILIO_ACCOUNT_SID=ACCOUNT,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_API_BASE_URL=base_url,
            SMTP_PORT=str(smtp_port),
            NOTIFICATIONS_PUBLIC_URL=public_url,
            DISPATCH_SECONDS="0.5",
            # No quiet hours, so the tests behave the same at any time of day.
            QUIET_HOURS_START="00:00",
            QUIET_HOURS_END="00:00",
            **extra,
        )
        app = create_app(settings)
        for consumer in app[MESSAGING].consumers:  # not the events earlier tests published
            await start_at_the_end(broker, consumer.group_id, consumer.topics)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=port))
        await client.start_server()
        publisher = await KafkaPublisher.connect(broker, client_id="notifications-test")
        try:
            yield Running(client, public_url, fake, mail, publisher, settings)
        finally:
            await publisher.close()
            await client.close()
            controller.stop()
