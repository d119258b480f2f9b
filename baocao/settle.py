"""Wait until the stream and the sink have handled everything the broker holds right now.

The outbox re-sends, on start, every acknowledged report the warehouse has no decision
for. Right after a restart of the warehouse service alone, many of those are still on
their way: on the broker, in the worker, or decided but not yet written. Waiting until
the worker's committed offsets reach the ends ``reports.submitted`` had when asked, then
the sink's reach the decision topics' ends, leaves only the reports the broker really
lost. (A re-send of a decided report would be dropped as a duplicate; one the stream
rejected would be rejected again, a second rejection row.)
"""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition

from baocao.status import admin_client
from contract import topics
from contract.kafka_offsets import end_offsets
from contract.kafka_security import client_kwargs
from contract.settings import Settings

log = logging.getLogger(__name__)


def wait_settled(settings: Settings, timeout: float = 60.0) -> bool:
    """Whether the stream, then the sink, caught up with the broker within ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        admin = admin_client(settings)
        consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers(), **client_kwargs(settings)
        )
    except Exception as exc:  # no broker: nothing on it can be decided either
        log.info("settle: broker unreachable: %s", exc)
        return False
    try:
        stages = (
            (topics.STREAMS_APP_ID, (topics.SUBMITTED,)),
            (topics.SINK_GROUP, (topics.ACCEPTED, topics.REJECTED)),
        )
        for group, names in stages:
            tps = [
                TopicPartition(name, p)
                for name in names
                for p in sorted(consumer.partitions_for_topic(name) or ())
            ]
            ends = {tp: end for tp, end in end_offsets(consumer, tps).items() if end > 0}
            while ends:
                committed = admin.list_group_offsets(group).get(group, {})
                ends = {tp: e for tp, e in ends.items() if _done(committed, tp) < e}
                if not ends:
                    break
                if time.monotonic() > deadline:
                    log.info("settle: %s still behind on %s", group, sorted(map(str, ends)))
                    return False
                time.sleep(0.5)
        return True
    except Exception as exc:  # kafka-python raises several unrelated types here
        log.info("settle: could not compare offsets: %s", exc)
        return False
    finally:
        consumer.close()
        admin.close()


def _done(committed: dict[TopicPartition, object], tp: TopicPartition) -> int:
    meta = committed.get(tp)
    return int(getattr(meta, "offset", 0)) if meta is not None else 0
