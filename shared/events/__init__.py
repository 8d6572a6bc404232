"""The event contract: one envelope for every event, and a pydantic model per payload."""

from shared.events.envelope import Envelope, Event, EventPayload, UndecodableEvent, decode, registry

__all__ = ["Envelope", "Event", "EventPayload", "UndecodableEvent", "decode", "registry"]
