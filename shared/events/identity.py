"""Events about sign-in that every service acts on, on `identity.events`.

A revoked session's tokens must be refused everywhere, not only by booking, which issued
them. The event names only the session and when its last token expires: no person.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class RevocationReason(StrEnum):
    """Why a session ended early; a reader that does not know a reason still refuses."""

    SIGNED_OUT = "signed_out"
    ERASED = "erased"
    PASSWORD_CHANGED = "password_changed"
    ACCOUNT_DISABLED = "account_disabled"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"


class SessionRevoked(EventPayload):
    """A session ended early (signed out, its account erased or disabled, its password
    changed): refuse its tokens until `expires_at`, when the last one it was given expires
    anyway. `reason` came later, so older events have none."""

    event_type = "identity.session.revoked"

    session_id: str = Field(min_length=1, max_length=64)
    expires_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=40)
