"""Events about sign-in that every service acts on, on `identity.events`.

A revoked session's tokens must be refused everywhere, not only by booking, which issued
them. The event names only the session and when its last token expires: no person.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class SessionRevoked(EventPayload):
    """A session ended early (signed out, or its account erased): refuse its tokens until
    `expires_at`, when the last one it was given expires anyway."""

    event_type = "identity.session.revoked"

    session_id: str = Field(min_length=1, max_length=64)
    expires_at: AwareDatetime
