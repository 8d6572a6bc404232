"""The event contract: envelopes, payload schemas and decoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from shared.context import correlation_scope
from shared.events import (
    Envelope,
    EventPayload,
    UndecodableEvent,
    booking,
    decode,
    directory,
    placements,
    registry,
)
from shared.events.booking import AppointmentConfirmed
from shared.events.directory import SchoolUpserted


def confirmed(**changes: object) -> AppointmentConfirmed:
    fields: dict[str, object] = dict(
        appointment_id="a1",
        revision=1,
        school_id="s1",
        student_id="st1",
        adviser_id="pa1",
        session_type="interview",
        starts_at=datetime(2027, 1, 12, 10, tzinfo=UTC),
        ends_at=datetime(2027, 1, 12, 10, 40, tzinfo=UTC),
        location="Careers room",
    )
    fields.update(changes)
    return AppointmentConfirmed(**fields)  # type: ignore[arg-type]


def test_an_envelope_round_trips_through_bytes_with_its_payload() -> None:
    envelope = Envelope.wrap(confirmed(), key="a1", producer="booking")
    decoded, payload = decode(envelope.to_bytes())
    assert decoded == envelope
    assert payload == confirmed()
    assert decoded.topic == "booking.events"
    assert decoded.type == "booking.appointment.confirmed" and decoded.version == 1


def test_a_producer_cannot_emit_a_field_its_schema_does_not_allow() -> None:
    with pytest.raises(ValidationError):
        confirmed(reason_for_referral="anything")


def test_a_payload_missing_a_required_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        SchoolUpserted(school_id="s1", name="A", day_starts=time(8, 30))  # type: ignore[call-arg]


def test_envelopes_carry_the_correlation_and_causation_of_their_context() -> None:
    with correlation_scope("corr-1", "cause-1"):
        envelope = Envelope.wrap(confirmed(), key="a1", producer="booking")
    assert envelope.correlation_id == "corr-1"
    assert envelope.causation_id == "cause-1"
    outside = Envelope.wrap(confirmed(), key="a1", producer="booking")
    assert outside.correlation_id == str(outside.id)
    assert outside.causation_id is None


@pytest.mark.parametrize(
    "raw, fault",
    [
        (None, "no value"),
        (b"\xff\xfe", "not JSON"),
        (b"{not json", "not JSON"),
        (b'{"id": "x"}', "not an event envelope"),
    ],
)
def test_undecodable_bytes_say_why(raw: bytes | None, fault: str) -> None:
    with pytest.raises(UndecodableEvent, match=fault):
        decode(raw)


def test_data_that_does_not_fit_the_registered_schema_is_undecodable() -> None:
    body = json.loads(Envelope.wrap(confirmed(), key="a1", producer="booking").to_bytes())
    body["data"]["revision"] = "first"
    with pytest.raises(UndecodableEvent, match="revision"):
        decode(json.dumps(body).encode())


def test_an_unknown_type_decodes_without_a_payload() -> None:
    body = json.loads(Envelope.wrap(confirmed(), key="a1", producer="booking").to_bytes())
    body["type"] = "booking.something.new"
    envelope, payload = decode(json.dumps(body).encode())
    assert envelope.type == "booking.something.new" and payload is None


def test_naive_timestamps_are_refused_on_the_wire() -> None:
    body = json.loads(Envelope.wrap(confirmed(), key="a1", producer="booking").to_bytes())
    body["occurred_at"] = "2027-01-12T10:00:00"
    with pytest.raises(UndecodableEvent):
        decode(json.dumps(body).encode())


@pytest.mark.parametrize("module", [booking, directory, placements])
def test_each_owner_module_registers_only_types_named_for_its_topic(module: object) -> None:
    owner = module.__name__.rsplit(".", 1)[-1]  # type: ignore[attr-defined]
    payloads = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, EventPayload)
        and "event_type" in value.__dict__
    ]
    for payload in payloads:
        assert payload.event_type.split(".")[0] == owner, payload
        assert registry.model_for(payload.event_type, payload.event_version) is payload
