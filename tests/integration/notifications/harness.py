"""A notifications world on a real database, the real Twilio SDK against the fake provider
on loopback and a real SMTP server (aiosmtpd), with a clock the test moves.

Events go through the same handler map the service's consumers use, each in its own
transaction as the consumer runs it; `dispatch(now)` runs the dispatcher at a given moment.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from services.notifications.adapters.calendar import invitation
from services.notifications.adapters.channels import SmtpEmail, TwilioSms
from services.notifications.adapters.orm import messages
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.dispatch import Dispatcher
from services.notifications.bootstrap import MIGRATIONS, consumers
from services.notifications.devtools.fake_twilio import FakeTwilio
from services.notifications.devtools.smtp_sink import SinkHandler, start_sink
from services.notifications.domain.reminders import ReminderPolicy
from shared.db import Database
from shared.devbroker import free_port
from shared.events import Envelope, Event, EventPayload
from shared.events.directory import Channel, ContactRole, ContactRoute, StudentUpserted
from shared.messaging.tables import outbox
from shared.migrations import upgrade

ACCOUNT, TOKEN = "AC" + "1" * 32, "test-auth-token"
SCHOOL = "school-n"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    db: Database
    clock: Clock
    twilio: FakeTwilio
    mail: SinkHandler
    sms: TwilioSms
    email: SmtpEmail
    handlers: dict[str, Any]
    wakes: list[int] = field(default_factory=list)

    def dispatcher(self, **options: Any) -> Dispatcher:
        storage = NotificationsStorage(self.db, clock=self.clock)
        wording: dict[str, Any] = {"templates": Templates(), "invitation": invitation}
        return Dispatcher(
            storage, sms=self.sms, email=self.email, clock=self.clock, **(wording | options)
        )

    async def dispatch(self, now: datetime | None = None, **options: Any) -> int:
        return await self.dispatcher(**options).dispatch_due(now or self.clock.now)

    async def deliver(
        self, payload: EventPayload, *, key: str = "k", envelope: Envelope | None = None
    ) -> Envelope:
        if envelope is None:  # as if produced now, by the test's clock
            envelope = Envelope.wrap(payload, key=key, producer="test").model_copy(
                update={"occurred_at": self.clock.now}
            )
        storage = NotificationsStorage(self.db, clock=self.clock)
        async with self.db.session() as session:
            await self.handlers[payload.event_type](
                Event(envelope, payload), storage.within(session)
            )
        return envelope

    async def student(
        self,
        student_id: str | None = None,
        *,
        phone: str | None = "+447700900123",
        email: str | None = "pupil@school.example",
        preferred: tuple[Channel, ...] = (Channel.SMS,),
        parent: ContactRoute | None = None,
        **extra: Any,
    ) -> str:
        student_id = student_id or f"student-{uuid.uuid4().hex[:12]}"
        routes = [
            ContactRoute(
                role=ContactRole.STUDENT,
                phone=phone,
                email=email,
                sms_consent=phone is not None,
                email_consent=email is not None,
                preferred=list(preferred),
            )
        ]
        if parent is not None:
            routes.append(parent)
        await self.deliver(
            StudentUpserted(
                student_id=student_id, school_id=SCHOOL, year_group=11, contacts=routes, **extra
            ),
            key=student_id,
        )
        return student_id

    async def run_until(self, end: datetime) -> None:
        """Dispatch at each pending message's due time up to `end`, as the job would."""
        while True:
            async with self.db.read_session() as s:
                due = await s.scalar(
                    sa.select(sa.func.min(messages.c.due_at)).where(
                        messages.c.status == "pending", messages.c.due_at <= end
                    )
                )
            if due is None:
                return
            self.clock.now = max(self.clock.now, due)
            await self.dispatch(self.clock.now)

    async def rows(self, *where: Any) -> list[Any]:
        async with self.db.read_session() as s:
            return list(
                (
                    await s.execute(sa.select(messages).where(*where).order_by(messages.c.due_at))
                ).all()
            )

    async def outbox_types(self) -> list[str]:
        async with self.db.read_session() as s:
            return list((await s.execute(sa.select(outbox.c.event_type))).scalars())


@asynccontextmanager
async def fake_twilio_server(**options: Any) -> AsyncIterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio(ACCOUNT, TOKEN, **options)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def world(
    database_url: str,
    tmp_path: Path,
    *,
    now: datetime | None = None,
    callback_url: str = "http://127.0.0.1:9/api/v1/twilio/status",
    **twilio_options: Any,
) -> AsyncIterator[World]:
    db = Database(database_url)
    await upgrade(db, MIGRATIONS)
    smtp_port = free_port()
    controller, mail = start_sink(smtp_port, tmp_path / "mail")
    clock = Clock(now or datetime(2027, 1, 12, 10, 0, tzinfo=UTC))
    wakes: list[int] = []
    handlers: dict[str, Any] = {}
    for _topics, table in consumers(ReminderPolicy(), lambda: wakes.append(1)).values():
        handlers.update(table)
    async with fake_twilio_server(**twilio_options) as (fake, base_url):
        sms = TwilioSms(
            account_sid=ACCOUNT,
            auth_token=TOKEN,
            sender="+447700900000",
            status_callback=callback_url,
            base_url=base_url,
            per_second=1000,
        )
        email = SmtpEmail(host="127.0.0.1", port=smtp_port, sender="careers@signpost.example")
        try:
            yield World(db, clock, fake, mail, sms, email, handlers, wakes)
        finally:
            await sms.close()
            controller.stop()
            await db.dispose()


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
