"""Readers are forward-compatible: fields they do not know are ignored, faults still refused."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from shared.events import Envelope, UndecodableEvent, decode, registry
from shared.events.directory import ContactRole, ContactRoute, StudentUpserted


def _student_body() -> dict[str, Any]:
    student = StudentUpserted(
        student_id="st1",
        school_id="s1",
        year_group=10,
        date_of_birth=date(2011, 10, 1),
        contacts=[ContactRoute(role=ContactRole.PARENT, phone="+447700900123", sms_consent=True)],
    )
    body: dict[str, Any] = json.loads(
        Envelope.wrap(student, key="st1", producer="booking").to_bytes()
    )
    return body


def test_fields_a_newer_producer_added_are_ignored_at_every_level() -> None:
    body = _student_body()
    body["trace_flags"] = "01"  # on the envelope
    body["data"]["tutor_group"] = "10B"  # on the payload
    body["data"]["contacts"][0]["quiet_hours"] = "21:00-07:00"  # on a nested model
    envelope, payload = decode(json.dumps(body).encode())
    assert isinstance(payload, StudentUpserted)
    assert payload.contacts[0].phone == "+447700900123"
    assert envelope.key == "st1"


@pytest.mark.parametrize(
    "change, fault",
    [
        (lambda data: data.pop("school_id"), "school_id"),
        (lambda data: data.update(year_group="ten"), "year_group"),
        (lambda data: data["contacts"][0].pop("role"), "contacts.0.role"),
        (lambda data: data["contacts"][0].update(sms_consent="perhaps"), "sms_consent"),
    ],
)
def test_a_missing_or_wrong_typed_field_is_still_refused(change: Any, fault: str) -> None:
    body = _student_body()
    change(body["data"])
    with pytest.raises(UndecodableEvent, match=fault):
        decode(json.dumps(body).encode())


def test_the_newest_known_version_of_a_type_is_known() -> None:
    assert registry.latest_version(StudentUpserted.event_type) == 1
    assert registry.latest_version("booking.never.heard_of") is None
