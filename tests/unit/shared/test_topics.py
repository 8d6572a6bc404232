"""Reading the broker's answer to a request to create topics."""

from __future__ import annotations

import pytest

from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.events.envelope import registry, topic_for
from shared.messaging.kafka import event_topics, refused_topics


def test_created_and_already_existing_topics_are_not_refusals() -> None:
    assert refused_topics([("a.events", 0, None), ("b.events", 36, "exists")]) == []
    assert refused_topics([("a.events", 0), ("b.events", 36)]) == []  # version 0 has no text


def test_a_refusal_names_the_topic_the_error_and_the_brokers_reason() -> None:
    refused = refused_topics(
        [
            ("ok.events", 0, None),
            ("x.dlq", 38, "replication factor of 3 cannot be reached: 1 broker"),
            ("bad topic", 17, None),
        ]
    )
    assert refused[0] == (
        "topic 'x.dlq': InvalidReplicationFactorError "
        "(replication factor of 3 cannot be reached: 1 broker)"
    )
    # Without the broker's own text, the error's description stands in.
    assert refused[1].startswith("topic 'bad topic': InvalidTopicError (")
    assert len(refused) == 2


@pytest.mark.parametrize("event_type", sorted({t for t, _ in registry.types()}))
def test_every_registered_event_type_has_its_topic_in_the_list(event_type: str) -> None:
    assert topic_for(event_type) in event_topics()
