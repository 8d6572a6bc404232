"""Every directory and placements payload carries the revision consumers order copies by."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import shared.events.catalogue  # noqa: F401  (registers every payload)
from shared.events import registry
from shared.events.directory import ProviderUpserted

REVISED = [
    (event_type, version)
    for event_type, version in registry.types()
    if event_type.startswith(("directory.", "placements."))
]


def test_the_catalogue_has_directory_and_placements_payloads() -> None:
    owners = {event_type.split(".", 1)[0] for event_type, _ in REVISED}
    assert owners == {"directory", "placements"}


@pytest.mark.parametrize("event_type, version", REVISED)
def test_every_directory_and_placements_payload_has_a_revision(
    event_type: str, version: int
) -> None:
    model = registry.model_for(event_type, version)
    assert model is not None
    field = model.model_fields.get("revision")
    assert field is not None, f"{event_type} has no revision"
    assert field.annotation is int
    # An event from before revisions were carried reads as older than any real one.
    assert field.default == 0


def test_a_negative_revision_is_refused() -> None:
    with pytest.raises(ValidationError):
        ProviderUpserted(provider_id="p1", name="Kent PAs", revision=-1)
