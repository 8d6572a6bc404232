"""Two dispatcher replicas on one PostgreSQL database never send the same message twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.notifications.adapters import message_store
from services.notifications.adapters.calendar import invitation
from services.notifications.adapters.message_store import NewMessage
from services.notifications.adapters.orm import messages
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.contact_book import replace_contacts
from services.notifications.application.dispatch import Dispatcher
from services.notifications.application.ports import RouteDetails
from shared.db import Database
from tests.integration.notifications.harness import world

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
COUNT = 1000


async def due_messages(db: Database, count: int) -> None:
    async with db.session() as s:
        for n in range(count):
            owner = f"student-{n:05d}"
            route = RouteDetails(
                role="student",
                phone=f"+4477001{n:05d}",
                email=None,
                sms_consent=True,
                email_consent=False,
                preferred=("sms",),
            )
            await replace_contacts(
                NotificationsStorage(db, clock=lambda: NOW).within(s),
                owner_id=owner,
                kind="student",
                school_id="s",
                revision=0,
                routes=[route],
            )
        await message_store.write(
            s,
            [
                NewMessage(
                    source=f"load:{n}",
                    kind="booking_confirmation",
                    owner_id=f"student-{n:05d}",
                    route=0,
                    channel="sms",
                    variant="a",
                    due_at=NOW,
                    expires_at=NOW + timedelta(days=1),
                    context={"starts_at": NOW.isoformat(), "location": "Careers room"},
                    student_id=f"student-{n:05d}",
                )
                for n in range(count)
            ],
            NOW,
        )


async def test_two_replicas_on_postgresql_send_a_thousand_due_messages_each_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with world(postgres_url, tmp_path, now=NOW) as w:
        await due_messages(w.db, COUNT)
        replicas = [Database(postgres_url, pool_size=5) for _ in range(2)]
        try:
            dispatchers = [
                Dispatcher(
                    NotificationsStorage(db, clock=w.clock),
                    sms=w.sms,
                    email=w.email,
                    clock=w.clock,
                    templates=Templates(),
                    invitation=invitation,
                    batch=50,
                )
                for db in replicas
            ]
            handled = await asyncio.gather(*(d.dispatch_due(NOW) for d in dispatchers))
        finally:
            for db in replicas:
                await db.dispose()
        assert sum(handled) == COUNT
        assert all(n > 0 for n in handled), "both replicas should have taken a share"
        sent = Counter(m["to"] for m in w.twilio.received)
        assert len(sent) == COUNT
        assert max(sent.values()) == 1
        statuses = Counter(r.status for r in await w.rows(messages.c.source.like("load:%")))
        assert statuses == {"sent": COUNT}


async def test_concurrent_claims_on_postgresql_each_take_at_most_their_batch(
    postgres_url: str, tmp_path: Path
) -> None:
    async with world(postgres_url, tmp_path, now=NOW) as w:
        await due_messages(w.db, 200)
        replicas = [Database(postgres_url) for _ in range(2)]

        async def claims(db: Database) -> list[int]:
            sizes = []
            for _ in range(4):
                async with db.session() as s:
                    claimed = await message_store.claim_due(
                        s, NOW, limit=25, lease=timedelta(minutes=2)
                    )
                sizes.append(len(claimed))
            return sizes

        try:
            sizes = await asyncio.gather(*(claims(db) for db in replicas))
        finally:
            for db in replicas:
                await db.dispose()
        assert [n for replica in sizes for n in replica] == [25] * 8
