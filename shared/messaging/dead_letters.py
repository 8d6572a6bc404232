"""Dead letters: sending a record a consumer cannot process to `<consumer>.dlq`.

A dead letter keeps the original value byte for byte and says in its headers why it was
set aside and where it came from.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord

from shared.logging import get_logger
from shared.messaging.kafka import KafkaPublisher
from shared.metrics import DEAD_LETTERS

log = get_logger(__name__)


class DeadLetterSink:
    """Publishes a consumer's dead letters; connects on first use."""

    def __init__(self, consumer: str, bootstrap_servers: str) -> None:
        self.consumer = consumer
        self.topic = f"{consumer}.dlq"
        self._bootstrap = bootstrap_servers
        self._publisher: KafkaPublisher | None = None

    async def send(
        self, record: ConsumerRecord[bytes, bytes], reason: str, detail: str, event_type: str
    ) -> None:
        """Publish and wait for the broker's acknowledgement; raise if it cannot be had."""
        if self._publisher is None:
            self._publisher = await KafkaPublisher.connect(
                self._bootstrap, client_id=f"{self.consumer}-dlq"
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
