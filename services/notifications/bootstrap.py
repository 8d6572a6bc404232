"""Notifications' composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from services.notifications.adapters.calendar import invitation
from services.notifications.adapters.channels import SmtpEmail, TwilioSms
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.contact_book import ContactBook
from services.notifications.application.dispatch import Dispatcher
from services.notifications.application.planning import (
    BookingMessages,
    PlacementMessages,
    Planner,
)
from services.notifications.application.ports import NotificationsEvents
from services.notifications.application.reminder_planner import ReminderPlanner
from services.notifications.domain.reminders import ReminderPolicy
from services.notifications.entrypoints import api, dev_outbox, messages_api, pages, webhooks
from services.notifications.entrypoints.context import NOTIFICATIONS, NotificationsContext
from services.notifications.entrypoints.scheduler import DispatchJob
from services.notifications.settings import NotificationsSettings
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.events.booking import (
    AdviserClashDetected,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
    DropInTurn,
    NoShowChase,
    WaitlistOfferEnded,
    WaitlistOfferMade,
)
from shared.events.directory import (
    AdviserUpserted,
    ContactChecked,
    StaffUpserted,
    StudentErased,
    StudentUpserted,
)
from shared.events.placements import (
    AllocationPublished,
    AllocationWithdrawn,
    EmployerAllocationsPublished,
    EmployerUpserted,
)
from shared.http.app import DATABASE, MESSAGING, consume_revocations, create_service_app
from shared.http.pages import install_pages
from shared.messaging.consumer import Handler

MIGRATIONS = Path(__file__).parent / "migrations"
TEMPLATES = Path(__file__).parent / "entrypoints" / "templates"
ROUTED = (messages_api, webhooks)  # their routes are declared on `api.routes`


def utc_now() -> datetime:
    return datetime.now(UTC)


def consumers(
    quiet: ReminderPolicy, wake: Callable[[], None]
) -> dict[str, tuple[list[str], dict[str, Handler[NotificationsEvents]]]]:
    """Each consumer's topics and handlers (the tests feed events through the same map).

    Every handler is called as `handler(event, uow)` with the unit of work in the consumer's
    transaction (`NotificationsStorage.within`), whose clock says what time it is."""
    planner = Planner(quiet, wake)
    appointments, booking = ReminderPlanner(planner), BookingMessages(planner)
    book, placements = ContactBook(appointments.catch_up), PlacementMessages(planner)
    return {
        "notifications.appointments": (
            ["booking.events"],
            {
                AppointmentConfirmed.event_type: appointments,
                AppointmentRescheduled.event_type: appointments,
                AppointmentCancelled.event_type: appointments,
                WaitlistOfferMade.event_type: booking.offer_made,
                WaitlistOfferEnded.event_type: booking.offer_ended,
                DropInTurn.event_type: booking.dropin_turn,
                NoShowChase.event_type: booking.no_show,
                AdviserClashDetected.event_type: booking.clash,
            },
        ),
        "notifications.contacts": (
            ["directory.events"],
            {
                StudentUpserted.event_type: book.student,
                StaffUpserted.event_type: book.staff,
                AdviserUpserted.event_type: book.adviser,
                StudentErased.event_type: book.erased,
                ContactChecked.event_type: book.checked,
            },
        ),
        # The employer's contact and their lists share a topic and a key, so one consumer
        # sees them in order.
        "notifications.placements": (
            ["placements.events"],
            {
                EmployerUpserted.event_type: book.employer,
                AllocationPublished.event_type: placements.published,
                AllocationWithdrawn.event_type: placements.withdrawn,
                EmployerAllocationsPublished.event_type: placements.employer_list,
            },
        ),
    }


def create_app(settings: NotificationsSettings) -> web.Application:
    settings.refuse_fakes_in_production()
    sms = TwilioSms(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_from,
        status_callback=settings.callback_url + webhooks.STATUS_PATH,
        base_url=settings.twilio_api_base_url,
        per_second=settings.sms_per_second,
    )
    email = SmtpEmail(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
    quiet = ReminderPolicy(quiet_starts=settings.quiet_starts, quiet_ends=settings.quiet_ends)
    jobs: list[DispatchJob] = []

    def wire(app: web.Application) -> None:
        db, messaging = app[DATABASE], app[MESSAGING]
        storage = NotificationsStorage(db, clock=utc_now, on_commit=messaging.relay.wake)
        dispatcher = Dispatcher(
            storage,
            sms=sms,
            email=email,
            clock=utc_now,
            templates=Templates(),
            invitation=invitation,
            batch=settings.dispatch_batch,
            lease=timedelta(seconds=settings.dispatch_lease_seconds),
        )
        job = DispatchJob(dispatcher, settings.dispatch_seconds)
        jobs.append(job)
        app[NOTIFICATIONS] = NotificationsContext(
            db=db,
            storage=storage,
            settings=settings,
            dispatcher=dispatcher,
            clock=utc_now,
        )
        for name, (topics, handlers) in consumers(quiet, job.wake).items():
            messaging.add_consumer(
                name, topics=topics, handlers=handlers, unit_of_work=storage.within
            )
        consume_revocations(app)

    app = create_service_app(
        settings,
        spec=api.spec,
        routes=[api.routes, pages.routes],
        migrations=MIGRATIONS,
        wire=wire,
    )
    install_pages(app, TEMPLATES, title="Messages")
    if not settings.is_production:
        app.router.add_routes(dev_outbox.routes)
    app.cleanup_ctx.append(jobs[0].cleanup_context())

    async def close_channels(_app: web.Application) -> None:
        await sms.close()

    app.on_cleanup.append(close_channels)
    return app
