"""Faust recovers tables up to the true end of their changelogs, not the listed one.

Faust restores a table by reading its changelog partitions up to the end offsets the
broker lists, and stops there. The embedded Tansu broker lists the first offset of a
partition's last batch + 1 (see ``contract.kafka_offsets``; no Tansu report found), so
a worker that took over partitions, after a crash or a rebalance, restored the ledger
without the rest of the last batch: re-sent reports were accepted again and
corrections got revision numbers already used (tests/integration/test_recovery.py,
and the kill -9 pipeline test's totals). Apache Kafka lists the high watermark, and
the recovery test passes there without this (docs/known-issues.md, Loops); on Kafka the
confirming fetch finds the listed end and changes nothing.

Faust asks its consumer for these offsets only during recovery, so apps that opt in
(``install``) answer from ``contract.kafka_offsets.end_offsets`` instead, read by a
short-lived kafka-python consumer outside any group. It can go when the embedded
broker lists true end offsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from kafka import KafkaConsumer, TopicPartition

from contract.kafka_offsets import end_offsets

log = logging.getLogger(__name__)

#: The app attribute holding the consumer factory of an app that opted in.
_FACTORY = "_baocao_end_offsets_consumer"

_listed_highwaters: Any = getattr(faust_aiokafka.Consumer, "highwaters", None)

#: What ``install`` replaces (None when the installed Faust lacks it).
HOOKS = {"faust.transport.drivers.aiokafka.Consumer.highwaters": _listed_highwaters}


async def _highwaters(self: Any, *partitions: Any) -> Mapping[Any, int]:
    listed: Mapping[Any, int] = await _listed_highwaters(self, *partitions)
    make: Callable[[], KafkaConsumer] | None = getattr(self.app, _FACTORY, None)
    if make is None or self.app.in_transaction:
        return listed
    try:
        true = await asyncio.to_thread(_read, make, partitions)
    except Exception as exc:  # never stop a recovery: Faust's own answer is next best
        log.warning("could not read the changelogs' true end offsets (%s); using listed", exc)
        return listed
    return {
        tp: max(int(end or 0), true[TopicPartition(tp.topic, tp.partition)])
        for tp, end in listed.items()
    }


def _read(make: Callable[[], KafkaConsumer], tps: tuple[Any, ...]) -> dict[TopicPartition, int]:
    consumer = make()
    try:
        return end_offsets(consumer, tps)
    finally:
        consumer.close()


def install(app: faust.App, make_consumer: Callable[[], KafkaConsumer]) -> None:
    """Make ``app``'s table recovery read changelogs to their true end offsets."""
    setattr(app, _FACTORY, make_consumer)
    faust_aiokafka.Consumer.highwaters = _highwaters  # type: ignore[method-assign]
