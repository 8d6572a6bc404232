"""What people choose about being contacted: a student's channel, parent copies and opting
out altogether, and SMS replies of STOP and START to any number we text."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications.application.ports import (
    NotificationsReads,
    NotificationsUnit,
    Preferences,
)

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOP ALL"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class NoContactDetails(LookupError):
    """The school has not given notifications this person's contact details yet."""


def keyword(body: str) -> str | None:
    """What an inbound SMS asks for: `stop`, `start`, `help`, or None for anything else."""
    word = " ".join(body.strip().upper().split())
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


@dataclass(frozen=True)
class ChoosePreferences:
    owner_id: str
    preferences: Preferences


@dataclass(frozen=True)
class StopSms:
    phone: str


@dataclass(frozen=True)
class StartSms:
    phone: str


async def preferences_of(owner_id: str, reads: NotificationsReads) -> Preferences:
    found = await reads.contacts.preferences(owner_id)
    if found is None:
        raise NoContactDetails(owner_id)
    return found


async def choose_preferences(cmd: ChoosePreferences, uow: NotificationsUnit) -> Preferences:
    async with uow:
        if await uow.contacts.owner(cmd.owner_id) is None:
            raise NoContactDetails(cmd.owner_id)
        await uow.contacts.choose(cmd.owner_id, cmd.preferences, uow.now())
        await uow.commit()
    return cmd.preferences


async def stop_sms(cmd: StopSms, uow: NotificationsUnit) -> int:
    """STOP: no later SMS to this number, including any already due; returns those withdrawn."""
    async with uow:
        now = uow.now()
        await uow.contacts.stop_sms(cmd.phone, now)
        withdrawn = await uow.messages.suppress_sms_to(cmd.phone, now)
        await uow.commit()
    return withdrawn


async def start_sms(cmd: StartSms, uow: NotificationsUnit) -> None:
    async with uow:
        await uow.contacts.start_sms(cmd.phone)
        await uow.commit()
