"""Notifications' unit of work: `shared.uow.UnitOfWork` with notifications' repositories on
its session and the service's clock; the same repositories over a read session; and the
storage the composition root hands the application, which makes both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.appointment_copies import AppointmentCopyRepository
from services.notifications.adapters.contact_store import ContactRepository
from services.notifications.adapters.message_log import MessageLogRepository
from services.notifications.adapters.message_store import MessageRepository
from shared.db import Database
from shared.uow import UnitOfWork

PRODUCER = "notifications"


class NotificationsRepositories:
    appointments: AppointmentCopyRepository
    contacts: ContactRepository
    messages: MessageRepository
    log: MessageLogRepository

    def _open_repositories_over(self, session: AsyncSession) -> None:
        self.appointments = AppointmentCopyRepository(session)
        self.contacts = ContactRepository(session)
        self.messages = MessageRepository(session)
        self.log = MessageLogRepository(session)


class NotificationsReads(NotificationsRepositories):
    """The repositories over a read session (`Database.read_session`): nothing to commit."""

    def __init__(self, session: AsyncSession) -> None:
        self._open_repositories_over(session)


class NotificationsUnitOfWork(NotificationsRepositories, UnitOfWork):
    """Each entry opens a new session and the repositories over it; `within(session)` opens
    them over the event consumer's session instead. `now()` is the service's clock."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(db, producer=PRODUCER, on_commit=on_commit)
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()


class NotificationsStorage:
    """Units of work and reads over the service's database, with its clock."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self._clock = clock
        self._on_commit = on_commit

    def unit(self) -> NotificationsUnitOfWork:
        return NotificationsUnitOfWork(self.db, clock=self._clock, on_commit=self._on_commit)

    def within(self, session: AsyncSession) -> NotificationsUnitOfWork:
        """The unit of work in the event consumer's transaction (the consumer's factory)."""
        return self.unit().within(session)

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[NotificationsReads]:
        async with self.db.read_session() as session:
            yield NotificationsReads(session)
