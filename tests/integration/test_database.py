"""The shared database helpers on real SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import Database

probe = sa.Table("probe", sa.MetaData(), sa.Column("n", sa.Integer))


async def test_a_single_read_leaves_the_pooled_connection_transactional(database_url: str) -> None:
    db = Database(database_url, pool_size=1)  # one connection: the read's is the write's
    try:
        async with db.connect() as conn:
            await conn.run_sync(probe.metadata.create_all)
        async with db.single_read() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(probe))).scalar() == 0
        async with db.sessions() as session, session.begin():
            await session.execute(probe.insert().values(n=1))
            await session.rollback()
        async with db.single_read() as conn:
            # Had the read left the connection in autocommit, the insert would have stuck.
            assert (await conn.execute(sa.select(sa.func.count()).select_from(probe))).scalar() == 0
    finally:
        await db.dispose()
