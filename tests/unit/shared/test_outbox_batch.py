"""How one batch's sends turn into an outcome: published, refused (per row), released."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RequestTimedOutError

from shared.messaging.claims import Claimed
from shared.messaging.outbox import publish_batch


def rows(*keys: str) -> list[Claimed]:
    """Rows numbered from 1, each body naming its seq."""
    return [Claimed(seq, "t.events", key, str(seq), 0) for seq, key in enumerate(keys, start=1)]


class Scripted:
    """A row's send raises `at_send[seq]`, or its delivery fails with `at_delivery[seq]`."""

    def __init__(
        self,
        at_send: dict[int, Exception] | None = None,
        at_delivery: dict[int, Exception] | None = None,
    ) -> None:
        self.at_send = at_send or {}
        self.at_delivery = at_delivery or {}
        self.sent: list[int] = []

    async def publish(self, topic: str, key: str, value: bytes) -> Awaitable[object]:
        seq = int(value)
        if seq in self.at_send:
            raise self.at_send[seq]
        self.sent.append(seq)
        delivery: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if seq in self.at_delivery:
            delivery.set_exception(self.at_delivery[seq])
        else:
            delivery.set_result(None)
        return delivery


async def test_a_refused_row_holds_back_the_rest_of_its_key_in_the_batch_only() -> None:
    publisher = Scripted(at_send={1: MessageSizeTooLargeError()})
    outcome, broker_error = await publish_batch(publisher, rows("a", "a", "b"))
    assert broker_error is None
    assert {seq: error for seq, (_, error) in outcome.refused.items()} == {
        1: "MessageSizeTooLargeError"
    }
    assert (outcome.released, outcome.published, publisher.sent) == ([2], [3], [3])


async def test_when_the_broker_fails_mid_batch_what_went_out_is_kept_and_the_rest_released() -> (
    None
):
    failure = KafkaConnectionError()
    publisher = Scripted(at_send={2: failure})
    outcome, broker_error = await publish_batch(publisher, rows("a", "b", "c"))
    assert broker_error is failure
    assert (outcome.published, outcome.released, publisher.sent) == ([1], [2, 3], [1])
    assert not outcome.refused


async def test_a_delivery_that_times_out_is_released_and_a_refused_one_counted() -> None:
    publisher = Scripted(at_delivery={1: RequestTimedOutError(), 2: MessageSizeTooLargeError()})
    outcome, broker_error = await publish_batch(publisher, rows("a", "b", "c"))
    assert isinstance(broker_error, RequestTimedOutError)
    assert (outcome.released, list(outcome.refused), outcome.published) == ([1], [2], [3])
