"""The dispatcher: claim due messages, hand each to its provider, record what happened.

The claim is committed (with a lease) before any provider is called, and no transaction is
open during the call, so a slow provider holds no locks and a crash after claiming is
recovered when the lease runs out. Outcomes: `sent`; `pending` again with a later due time
after a transient error (and `failed` when the attempts are used up); `undeliverable` after a
permanent one, which marks the route and publishes `notifications.contact.undeliverable`;
`expired` when the moment it was about has passed; `suppressed` when the person opted out,
withdrew consent or the route is known to fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from services.notifications.application.ports import Claimed, Storage
from services.notifications.application.sending import (
    Attachment,
    EmailSender,
    Invitations,
    PermanentFailure,
    Rendered,
    SmsSender,
    TransientFailure,
    Wording,
)
from services.notifications.domain.messages import RULES, SMS, Kind, validity_seconds
from services.notifications.metrics import (
    DISPATCH_LAG,
    MESSAGES_FAILED,
    MESSAGES_PENDING,
    MESSAGES_SENT,
)
from shared.events.directory import Channel
from shared.events.notifications import ContactUndeliverable
from shared.logging import get_logger

log = get_logger(__name__)

Clock = Callable[[], datetime]


class Dispatcher:
    """Each step is a unit of work of its own (`storage.unit()`), committed before the next;
    the relay is woken by the unit that emits. The senders, the wording and the invitations
    are the composition root's adapters (`application/sending.py` has their ports)."""

    def __init__(
        self,
        storage: Storage,
        *,
        sms: SmsSender,
        email: EmailSender,
        clock: Clock,
        templates: Wording,
        invitation: Invitations,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 5,
        retry_after: timedelta = timedelta(seconds=30),
        concurrency: int = 20,
    ) -> None:
        self._storage = storage
        self._sms = sms
        self._email = email
        self._templates = templates
        self._invitation = invitation
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._max_attempts = max_attempts
        self._retry_after = retry_after
        self._slots = asyncio.Semaphore(concurrency)

    async def dispatch_due(self, now: datetime | None = None) -> int:
        """Send every message due at `now` (the clock's time by default); the number handled."""
        handled = 0
        while True:
            moment = now or self._clock()
            async with self._storage.unit() as uow:
                claimed = await uow.messages.claim_due(moment, limit=self._batch, lease=self._lease)
                await uow.commit()
            if not claimed:
                break
            # A short claim is no sign of the end: another replica may hold the rest for a
            # moment (SKIP LOCKED passes over its rows), so only an empty claim stops.
            results = await asyncio.gather(
                *(self._deliver(item, now) for item in claimed), return_exceptions=True
            )
            for result in results:  # the row's lease runs out and another run retries it
                if isinstance(result, Exception):
                    log.warning("message.record_failed", error=type(result).__name__)
            handled += len(claimed)
        await self._count_pending()
        return handled

    async def _deliver(self, item: Claimed, fixed_now: datetime | None) -> None:
        async with self._slots:
            now = fixed_now or self._clock()
            skip = await self._reason_not_to_send(item, now)
            if skip is not None:
                status, error = skip
                await self._finish(item, now, status=status, error=error)
                return
            try:
                rendered = self._templates.render(
                    item.kind, item.channel, item.variant, item.context
                )
                provider_id = await self._hand_over(item, rendered, now)
            except TransientFailure as exc:
                await self._retry(item, now, exc.code)
                return
            except PermanentFailure as exc:
                await self._undeliverable(item, now, exc)
                return
            except Exception as exc:  # a fault of ours (a template, say): retried, then failed
                await self._retry(item, now, type(exc).__name__)
                return
            handed = fixed_now or self._clock()
            async with self._storage.unit() as uow:
                await uow.messages.handed_over(
                    item, handed, provider_id=provider_id, body=rendered.text
                )
                await uow.commit()
            MESSAGES_SENT.labels(item.channel, item.kind).inc()
            DISPATCH_LAG.observe(max(0.0, (handed - item.due_at).total_seconds()))

    async def _reason_not_to_send(self, item: Claimed, now: datetime) -> tuple[str, str] | None:
        if now >= item.expires_at:
            return "expired", "too-late"
        if item.role is None:
            return "cancelled", "no-contact"
        if item.opted_out:
            return "suppressed", "opted-out"
        if item.undeliverable is not None:
            return "suppressed", "undeliverable"
        if item.channel == SMS:
            if not (item.phone and item.sms_consent):
                return "suppressed", "no-consent"
            # A STOP may have arrived since the claim: look again just before sending.
            if item.sms_stopped:
                return "suppressed", "opted-out"
            async with self._storage.reads() as reads:
                if await reads.contacts.sms_stopped(item.phone):
                    return "suppressed", "opted-out"
        elif not (item.email and item.email_consent):
            return "suppressed", "no-consent"
        return None

    async def _hand_over(self, item: Claimed, rendered: Rendered, now: datetime) -> str:
        if item.channel == SMS:
            assert item.phone is not None
            validity = validity_seconds(now, item.expires_at)
            return await self._sms.send(item.phone, rendered, validity, item.id)
        assert item.email is not None
        return await self._email.send(item.email, rendered, self._attachments(item, now))

    def _attachments(self, item: Claimed, now: datetime) -> tuple[Attachment, ...]:
        method = RULES[Kind(item.kind)].calendar
        if method is None or item.email is None:
            return ()
        content = self._invitation(
            item.context, method=method, organizer=self._email.sender, attendee=item.email, now=now
        )
        return (
            Attachment("invite.ics", content, ("text", "calendar"), {"method": method.upper()}),
        )

    async def _retry(self, item: Claimed, now: datetime, code: str) -> None:
        log.warning("message.send_failed", message_id=item.id, error=code, attempt=item.attempts)
        if item.attempts >= self._max_attempts:
            await self._finish(item, now, status="failed", error=code)
            MESSAGES_FAILED.labels(item.channel, item.kind).inc()
            return
        delay = self._retry_after * (2 ** (item.attempts - 1))
        await self._finish(
            item, now, status="pending", due_at=now + min(delay, timedelta(hours=1)), error=code
        )

    async def _finish(self, item: Claimed, now: datetime, **values: object) -> None:
        async with self._storage.unit() as uow:
            await uow.messages.finish(item, now, **values)
            await uow.commit()

    async def _undeliverable(self, item: Claimed, now: datetime, exc: PermanentFailure) -> None:
        log.info("message.undeliverable", message_id=item.id, error=exc.code)
        MESSAGES_FAILED.labels(item.channel, item.kind).inc()
        async with self._storage.unit() as uow:
            if not await uow.messages.finish(item, now, status="undeliverable", error=exc.code):
                return
            if item.owner_id is None or item.route is None:
                await uow.commit()
                return
            await uow.contacts.mark_undeliverable(
                item.owner_id, item.route, item.channel, exc.reason.value
            )
            await uow.emit(
                ContactUndeliverable(
                    owner_id=item.owner_id,
                    owner_kind=item.owner_kind or "student",
                    school_id=item.school_id,
                    role=item.role or "student",
                    route=item.route,
                    channel=Channel(item.channel),
                    reason=exc.reason,
                ),
                key=item.owner_id,
            )
            await uow.commit()

    async def _count_pending(self) -> None:
        try:
            async with self._storage.reads() as reads:
                pending = await reads.messages.count_pending()
        except Exception:  # only a gauge: the next run counts again
            return
        MESSAGES_PENDING.set(pending)
