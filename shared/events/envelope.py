"""The envelope around every event on the wire, and the registry of payload schemas.

A payload class declares its `event_type` and `event_version`; subclassing registers it.
`Envelope.wrap` builds an envelope from a validated payload, so a producer cannot emit data
its schema does not allow. `decode` is the consumer's side: bytes to envelope and payload.
Readers are forward-compatible: they ignore fields they do not know, at every level (a
rolling deploy may add an optional field before every consumer knows it), and still refuse
missing or wrong-typed ones. `version` is the schema's major version.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.context import causation_id_var, correlation_id_var


class UndecodableEvent(ValueError):
    """The bytes are not an envelope, or its data do not match the registered schema."""


class EventPayload(BaseModel):
    """Base of every payload model. Producers may not set fields the schema lacks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            registry.register(cls)


class _Registry:
    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[EventPayload]] = {}

    def register(self, model: type[EventPayload]) -> None:
        key = (model.event_type, model.event_version)
        existing = self._models.get(key)
        if existing is not None and existing is not model:
            raise ValueError(f"event {key[0]} v{key[1]} is registered twice")
        self._models[key] = model

    def model_for(self, event_type: str, version: int) -> type[EventPayload] | None:
        return self._models.get((event_type, version))

    def latest_version(self, event_type: str) -> int | None:
        """The newest version of `event_type` this build knows, or None for none at all."""
        return max((v for t, v in self._models if t == event_type), default=None)

    def types(self) -> list[tuple[str, int]]:
        return sorted(self._models)


registry = _Registry()


def topic_for(event_type: str) -> str:
    """Topics are named by owner: `booking.appointment.confirmed` goes to `booking.events`."""
    owner = event_type.split(".", 1)[0]
    return f"{owner}.events"


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID
    type: str = Field(min_length=3, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str
    key: str = Field(min_length=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        key: str,
        producer: str,
        occurred_at: datetime | None = None,
    ) -> Self:
        """Build the envelope for `payload`, taking correlation ids from the current context."""
        event_id = uuid.uuid4()
        return cls(
            id=event_id,
            type=payload.event_type,
            version=payload.event_version,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            key=key,
            correlation_id=correlation_id_var.get() or str(event_id),
            causation_id=causation_id_var.get(),
            data=payload.model_dump(mode="json"),
        )

    @property
    def topic(self) -> str:
        return topic_for(self.type)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    def payload(self) -> EventPayload | None:
        """The validated payload, or None when this service knows no schema for the type."""
        model = registry.model_for(self.type, self.version)
        if model is None:
            return None
        try:
            return model.model_validate(self.data, extra="ignore")
        except ValidationError as exc:
            raise UndecodableEvent(f"{self.type} v{self.version}: {_first_error(exc)}") from exc


P = TypeVar("P", bound=EventPayload)


@dataclass(frozen=True)
class Event(Generic[P]):
    """What a consumer hands an event handler: the envelope (id, time, key, correlation) and
    its validated payload."""

    envelope: Envelope
    payload: P


def decode(raw: bytes | None) -> tuple[Envelope, EventPayload | None]:
    if raw is None:
        raise UndecodableEvent("the message has no value")
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"not JSON: {exc}") from exc
    try:
        envelope = Envelope.model_validate(obj, extra="ignore")
    except ValidationError as exc:
        raise UndecodableEvent(f"not an event envelope: {_first_error(exc)}") from exc
    return envelope, envelope.payload()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(root)"
    return f"{where}: {err['msg']}"
