"""What already holds advisers over a range of time, for the slot search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import adviser_busy, appointments, waitlist_offers
from services.booking.application.ports import BusyTime
from services.booking.domain.model import Interval


class BusyTimeReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def busy_time(
        self,
        adviser_ids: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        student_id: str | None = None,
    ) -> BusyTime:
        """What holds each adviser in [start, end), and the seats taken in shared sessions.

        Busy time is everything that already holds an adviser, at any school: imported
        personal-calendar time, active appointments, and places held by a live waitlist
        offer for somebody else; that student (and only that student) still sees the place
        as free.
        """
        by_adviser: dict[str, list[Interval]] = defaultdict(list)
        seats: dict[tuple[str, Interval], int] = defaultdict(int)
        if not adviser_ids:
            return BusyTime({}, {})
        ids = list(adviser_ids)
        held = await self._session.execute(
            sa.select(
                appointments.c.adviser_id,
                appointments.c.starts_at,
                appointments.c.ends_at,
                appointments.c.capacity,
            ).where(
                appointments.c.adviser_id.in_(ids),
                appointments.c.status == "confirmed",
                appointments.c.starts_at < end,
                appointments.c.ends_at > start,
            )
        )
        for row in held:
            interval = Interval(row.starts_at, row.ends_at)
            by_adviser[row.adviser_id].append(interval)
            if row.capacity > 1:
                seats[(row.adviser_id, interval)] += 1
        blocked = await self._session.execute(
            sa.select(adviser_busy.c.adviser_id, adviser_busy.c.starts_at, adviser_busy.c.ends_at)
            .where(adviser_busy.c.adviser_id.in_(ids), self._busy_overlaps(start, end))
            .union_all(
                sa.select(
                    waitlist_offers.c.adviser_id,
                    waitlist_offers.c.starts_at,
                    waitlist_offers.c.ends_at,
                ).where(
                    waitlist_offers.c.adviser_id.in_(ids),
                    waitlist_offers.c.status == "open",
                    waitlist_offers.c.student_id != (student_id or ""),
                    waitlist_offers.c.starts_at < end,
                    waitlist_offers.c.ends_at > start,
                )
            )
        )
        for busy in blocked:
            by_adviser[busy.adviser_id].append(Interval(busy.starts_at, busy.ends_at))
        return BusyTime(dict(by_adviser), dict(seats))

    def _busy_overlaps(self, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
        """Imported time overlapping [start, end); on PostgreSQL as a range overlap, which
        the GiST index of the `adviser_busy_no_overlap` constraint answers."""
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            held = sa.func.tstzrange(adviser_busy.c.starts_at, adviser_busy.c.ends_at, "[)")
            wanted = sa.func.tstzrange(
                sa.cast(start, postgresql.TIMESTAMP(timezone=True)),
                sa.cast(end, postgresql.TIMESTAMP(timezone=True)),
                "[)",
            )
            return held.op("&&")(wanted)
        return sa.and_(adviser_busy.c.starts_at < end, adviser_busy.c.ends_at > start)
