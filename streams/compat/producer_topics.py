"""The worker's producer keeps asking the broker about every topic it has sent to.

aiokafka's client asks the broker only about the topics in its tracked set, and adds a
topic to that set only when a send finds the topic unknown. A topic the client learned
from its first, all-topics answer is therefore sent to without being tracked. Once
another topic is tracked, the next metadata answer covers only the tracked ones and the
untracked topic drops out: its pending batch has no known leader, and the sender asks
again and again, about the wrong topics, for ever. A worker's cold start with a backlog
hung so, and the next rebalance waited on the producer's flush. It is the Java client's
KAFKA-5086 (apache/kafka#2869); no aiokafka report of it was found.

``install`` makes every send track its topic, which is what the client does for topics
it did not know. tests/integration/test_producer_topics.py shows the bug and the fix on
each broker; the patch can go when aiokafka tracks every topic it sends to.
"""

from __future__ import annotations

from typing import Any

from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped]

_wait_on_metadata: Any = getattr(AIOKafkaClient, "_wait_on_metadata", None)

#: What ``install`` replaces (None when the installed aiokafka lacks it).
HOOKS = {"aiokafka.client.AIOKafkaClient._wait_on_metadata": _wait_on_metadata}


async def _tracking_wait_on_metadata(self: Any, topic: str) -> Any:
    if topic not in self._topics:
        self.add_topic(topic)  # asks the broker about it from now on
    return await _wait_on_metadata(self, topic)


def install(on: bool = True) -> None:
    """Patch aiokafka's client, or put its own method back (process-wide; idempotent)."""
    AIOKafkaClient._wait_on_metadata = _tracking_wait_on_metadata if on else _wait_on_metadata
