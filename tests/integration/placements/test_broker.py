"""Placements on the real broker: directory events in, published allocations out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.placements.adapters.orm import schools, students
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import (
    ImportEmployers,
    import_employers,
    read_employers_file,
)
from services.placements.bootstrap import create_app
from services.placements.settings import PlacementsSettings
from shared.auth.principal import Role
from shared.db import Database
from shared.events import Envelope, decode
from shared.events.directory import SchoolUpserted, StudentUpserted
from shared.messaging.kafka import KafkaPublisher
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.integration.placements.conftest import EBP, EMPLOYERS_CSV, IT, WEEK_1
from tests.support import app_client, bearer, settings_for, token_for


async def _find_on_topic(bootstrap: str, topic: str, event_id: str, timeout_s: float = 15) -> bool:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def seen() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            return any(
                decode(r.value)[0].id == uuid.UUID(event_id)
                for records in batch.values()
                for r in records
            )

        return bool(await eventually(seen, timeout=timeout_s))
    finally:
        await consumer.stop()


async def test_directory_events_fill_the_read_model_and_allocations_reach_the_topic(
    broker: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'placements.db'}"
    settings = settings_for(PlacementsSettings, database_url=url, broker=broker, data_dir=tmp_path)
    school_id, student_id = f"school-{uuid.uuid4().hex[:8]}", f"student-{uuid.uuid4().hex[:8]}"
    async with app_client(create_app, settings) as client:
        db = Database(url)
        publisher = await KafkaPublisher.connect(broker, client_id="directory-test")
        try:
            for payload, key in (
                (
                    SchoolUpserted(
                        school_id=school_id,
                        name="Test School",
                        day_starts="08:30",
                        day_ends="15:30",
                        postcode_district="ME14",
                    ),
                    school_id,
                ),
                (
                    StudentUpserted(
                        student_id=student_id,
                        school_id=school_id,
                        year_group=10,
                        date_of_birth=date(2011, 10, 1),
                    ),
                    student_id,
                ),
            ):
                envelope = Envelope.wrap(payload, key=key, producer="booking")
                await (await publisher.publish("directory.events", key, envelope.to_bytes()))

            async def arrived() -> bool:
                # Different keys, different partitions: wait for both, in either order.
                async with db.read_session() as s:
                    student = await s.scalar(
                        sa.select(students.c.id).where(students.c.id == student_id)
                    )
                    school = await s.scalar(
                        sa.select(schools.c.id).where(schools.c.id == school_id)
                    )
                return student is not None and school is not None

            await eventually(arrived, timeout=30)

            async with PlacementsUnitOfWork(db, producer="placements") as uow:
                await import_employers(
                    ImportEmployers(read_employers_file(EMPLOYERS_CSV), ebp_id=EBP), uow
                )
            ebp = bearer(
                token_for(
                    tmp_path, user_id="ebp", role=Role.EBP, school_ids=[school_id], ebp_id=EBP
                )
            )
            opened = await client.post(
                "/api/v1/rounds",
                json={
                    "name": "Broker round",
                    "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                    "schools": [{"school_id": school_id, "weeks": [WEEK_1]}],
                },
                headers=ebp,
            )
            assert opened.status == 201, await opened.text()
            base = f"/api/v1/rounds/{(await opened.json())['id']}"
            student = bearer(
                token_for(tmp_path, user_id=student_id, role=Role.STUDENT, school_ids=[school_id])
            )
            stated = await client.put(
                f"{base}/students/me/preferences",
                json={"travel_limit_km": 10, "choices": [{"placement_id": IT}]},
                headers=student,
            )
            assert stated.status == 200, await stated.text()
            run_id = (await (await client.post(f"{base}/runs", json={}, headers=ebp)).json())["id"]

            async def completed() -> bool:
                run = await (await client.get(f"{base}/runs/{run_id}", headers=ebp)).json()
                return bool(run["status"] == "completed")

            await eventually(completed, timeout=30)
            published = await client.post(f"{base}/runs/{run_id}/publication", headers=ebp)
            assert (await published.json())["allocations"] == 1

            async def relayed() -> str | None:
                async with db.read_session() as s:
                    row = (
                        await s.execute(
                            sa.select(outbox.c.event_id, outbox.c.published_at).where(
                                outbox.c.key == student_id,
                                outbox.c.event_type == "placements.allocation.published",
                            )
                        )
                    ).first()
                return row.event_id if row is not None and row.published_at else None

            event_id = await eventually(relayed, timeout=15)
            assert await _find_on_topic(broker, "placements.events", event_id)
        finally:
            await publisher.close()
            await db.dispose()
