"""The worker's producer keeps asking the broker about every topic it has sent to.

aiokafka's client asks the broker only about the topics in its tracked set, and adds a
topic to that set only when a send finds the topic unknown. A topic the client had
learned from an all-topics answer (at start, while the set was empty) is therefore
sent to without being tracked. As soon as another topic is tracked, the next metadata
answer covers only the tracked ones and the untracked topic drops out: its pending
batch has no known leader, and the sender asks again and again, about the wrong
topics, for ever (the same bug as KAFKA-5086 in the Java client).

Seen here in about one cold start of five of a worker with a backlog (py-spy: the
main thread looping in ``_metadata_update``; the requests listed every topic but
``alerts``). The next rebalance then waited on a producer flush that never came, and
the stall watchdog restarted the worker after 60 s. ``install`` makes every send
track its topic, which is what the client does for topics it did not know.
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
