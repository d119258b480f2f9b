"""A worker's producer keeps the metadata of every topic it sends to (a real broker).

Without ``streams.compat.producer_topics`` a topic learned from aiokafka's first, all-topics
metadata answer drops out of the client's view as soon as another topic is tracked;
a batch waiting for it then waits for ever (a worker's cold start hung that way).
"""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped]

from baocao.broker import EmbeddedBroker, create_topics
from contract.topics import TopicSpec
from streams.compat import producer_topics
from tests.integration.own_loop import run_in_own_loop

pytestmark = pytest.mark.integration


async def still_known_after_another_topic(bootstrap: str, known: str, later: str) -> bool:
    """Send to ``known`` (learned at start), then to a topic created after the start."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()  # its first metadata answer lists every topic
    try:
        await (await producer.send(known, b"first"))
        create_topics(bootstrap, [TopicSpec(later, 1)])
        await (await producer.send(later, b"second"))  # unknown, so it is tracked
        await producer.client.force_metadata_update()
        return producer.client.cluster.partitions_for_topic(known) is not None
    finally:
        await producer.stop()


def test_a_topic_sent_to_stays_in_the_producers_metadata(
    broker: EmbeddedBroker, unique: str
) -> None:
    create_topics(broker.bootstrap, [TopicSpec(f"alerts-{unique}", 1)])
    producer_topics.install()
    assert run_in_own_loop(
        still_known_after_another_topic(broker.bootstrap, f"alerts-{unique}", f"later-{unique}")
    )


def test_without_the_patch_the_client_forgets_it(
    broker: EmbeddedBroker, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bug the patch works around, and where it shows: on Tansu, not on Apache Kafka.

    Kafka's metadata answers keep the untracked topic known, so the patch is needed only
    on the embedded broker (docs/known-issues.md); when aiokafka tracks every topic it
    sends to, or Tansu answers as Kafka does, the patch can go.
    """
    monkeypatch.setattr(AIOKafkaClient, "_wait_on_metadata", producer_topics._wait_on_metadata)
    create_topics(broker.bootstrap, [TopicSpec(f"alerts-{unique}", 1)])
    kept = run_in_own_loop(
        still_known_after_another_topic(broker.bootstrap, f"alerts-{unique}", f"later-{unique}")
    )
    assert kept is (broker.kind == "kafka")
