"""Through the real broker: a republished, reordered batch leaves placements' copies right."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from services.placements.adapters.orm import erased_students, schools, students
from services.placements.bootstrap import create_app
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.events import Envelope
from shared.events.directory import StudentErased
from shared.messaging.kafka import KafkaPublisher
from shared.messaging.tables import inbox
from tests.conftest import eventually
from tests.integration.placements.test_directory_copies import (
    SCHOOL,
    STUDENT,
    copy_of,
    school,
    student,
)
from tests.support import app_client, settings_for


async def test_a_republished_batch_read_e7_e5_e7_leaves_the_copies_at_e7(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    settings = settings_for(
        PlacementsSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    school_7 = Envelope.wrap(school(7, "Seven"), key=SCHOOL, producer="booking")
    student_7 = Envelope.wrap(student(7, 11), key=STUDENT, producer="booking")
    batch = [school_7, student_7]
    # The relay failed part-way and published the batch again, behind an older change.
    sent = [
        *batch,
        Envelope.wrap(school(5, "Five"), key=SCHOOL, producer="booking"),
        Envelope.wrap(student(5, 10), key=STUDENT, producer="booking"),
        *batch,
        Envelope.wrap(
            StudentErased(student_id=STUDENT, school_id=SCHOOL, revision=8),
            key=STUDENT,
            producer="booking",
        ),
        Envelope.wrap(student(6, 10), key=STUDENT, producer="booking"),
    ]
    async with app_client(create_app, settings):
        db = Database(database_url)
        publisher = await KafkaPublisher.connect(broker, client_id="directory-order-test")
        try:
            for envelope in sent:
                await (
                    await publisher.publish("directory.events", envelope.key, envelope.to_bytes())
                )

            async def all_handled() -> bool:
                async with db.read_session() as s:
                    seen = set((await s.execute(sa.select(inbox.c.event_id))).scalars())
                return {str(e.id) for e in sent} <= seen

            await eventually(all_handled, timeout=30)
            copy = await copy_of(db, schools, SCHOOL)
            assert copy is not None and (copy["name"], copy["revision"]) == ("Seven", 7)
            assert await copy_of(db, students, STUDENT) is None
            tombstone = await copy_of(db, erased_students, STUDENT)
            assert tombstone is not None and tombstone["revision"] == 8
        finally:
            await publisher.close()
            await db.dispose()
