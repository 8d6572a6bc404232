"""Dead letters: sending a record to `<consumer>.dlq`, and reading them back for operators.

A dead letter keeps the original value byte for byte and says in its headers why it was
set aside and where it came from, so `signpost dlq replay` can feed it back through the
same consumer once the cause is fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.logging import get_logger
from shared.messaging.kafka import KafkaPublisher
from shared.metrics import DEAD_LETTERS

log = get_logger(__name__)


class DeadLetterSink:
    """Publishes a consumer's dead letters; connects on first use."""

    def __init__(self, consumer: str, bootstrap_servers: str, *, idempotent: bool = False) -> None:
        self.consumer = consumer
        self._idempotent = idempotent
        self.topic = f"{consumer}.dlq"
        self._bootstrap = bootstrap_servers
        self._publisher: KafkaPublisher | None = None

    async def send(
        self, record: ConsumerRecord[bytes, bytes], reason: str, detail: str, event_type: str
    ) -> None:
        """Publish and wait for the broker's acknowledgement; raise if it cannot be had."""
        if self._publisher is None:
            self._publisher = await KafkaPublisher.connect(
                self._bootstrap, client_id=f"{self.consumer}-dlq", idempotent=self._idempotent
            )
        headers = [
            ("dlq.reason", reason.encode()),
            ("dlq.detail", detail[:1000].encode()),
            ("dlq.event_type", event_type.encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
        ]
        key = record.key.decode(errors="replace") if record.key else record.topic
        await (await self._publisher.publish(self.topic, key, record.value or b"", headers))
        DEAD_LETTERS.labels(self.consumer).inc()
        log.error(
            "consumer.dead_lettered",
            consumer=self.consumer,
            reason=reason,
            detail=detail[:300],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    event_type: str
    key: str
    reason: str
    detail: str
    when: datetime
    value: bytes
    topic: str
    partition: int
    offset: int

    def as_record(self) -> ConsumerRecord[bytes, bytes]:
        """The record as the consumer first read it, to process it again."""
        return ConsumerRecord(
            topic=self.topic,
            partition=self.partition,
            offset=self.offset,
            timestamp=int(self.when.timestamp() * 1000),
            timestamp_type=0,
            key=self.key.encode(),
            value=self.value,
            checksum=None,
            serialized_key_size=len(self.key),
            serialized_value_size=len(self.value),
            headers=[],
        )


def _from_record(consumer: str, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {name: value.decode(errors="replace") for name, value in record.headers}
    value = record.value or b""
    event_type = headers.get("dlq.event_type") or _type_in(value)
    return DeadLetter(
        consumer=consumer,
        event_type=event_type,
        key=record.key.decode(errors="replace") if record.key else "",
        reason=headers.get("dlq.reason", "?"),
        detail=headers.get("dlq.detail", ""),
        when=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        value=value,
        topic=headers.get("dlq.topic", ""),
        partition=int(headers.get("dlq.partition", "0")),
        offset=int(headers.get("dlq.offset", "-1")),
    )


def _type_in(value: bytes) -> str:
    """The event type named in a value, if it is JSON with one (older dead letters)."""
    try:
        found = json.loads(value).get("type")
    except (ValueError, AttributeError):
        return "?"
    return found if isinstance(found, str) else "?"


async def read_dead_letters(bootstrap_servers: str, consumer: str) -> list[DeadLetter]:
    """Every dead letter of `consumer`, oldest first, read without a consumer group."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, client_id="signpost-dlq"
    )
    await reader.start()
    try:
        topic = f"{consumer}.dlq"
        # Without topics of its own, the reader's first metadata covers every topic.
        partitions = reader.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        letters: list[DeadLetter] = []
        remaining = {tp for tp in tps if ends[tp] > await reader.position(tp)}
        while remaining:
            batch = await reader.getmany(*remaining, timeout_ms=1000)
            for records in batch.values():
                letters.extend(_from_record(consumer, r) for r in records)
            remaining = {tp for tp in remaining if await reader.position(tp) < ends[tp]}
        return sorted(letters, key=lambda letter: letter.when)
    finally:
        await reader.stop()
