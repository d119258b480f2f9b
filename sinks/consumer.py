"""Run the warehouse sink as a plain Kafka consumer: poll, batch, write, then commit.

Offsets are committed only after the warehouse confirmed the rows, so a crash anywhere
means redelivery, never loss; redelivered rows are absorbed by deduplication tokens
and by views that deduplicate. When the warehouse is unavailable the consumer pauses
its partitions but keeps polling (so it stays in its group) and retries with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from contract.kafka_security import client_kwargs
from contract.settings import Settings
from contract.topics import SINK_GROUP
from sinks.clickhouse import ClickHouseSink, Partition, SinkTopics
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

log = logging.getLogger(__name__)

MAX_POLL_RECORDS = 5_000
POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 5.0
#: How long a clean stop keeps retrying the last flush before leaving it to redelivery.
FINAL_FLUSH_SECONDS = 3.0


def _kafka_offsets(offsets: dict[Partition, int]) -> dict[Any, Any]:
    return {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}


class SinkRunner:
    """Consume the decisions, alerts, levels, approvals and dead letters into the warehouse."""

    def __init__(
        self,
        settings: Settings,
        warehouse: Warehouse,
        topics: Sequence[str] = SinkTopics(),
        group: str = SINK_GROUP,
    ) -> None:
        self.settings = settings
        self.topics = SinkTopics(*topics)
        self.group = group
        self.sink = ClickHouseSink(warehouse, settings.sink_batch_rows, self.topics)
        self.outages = 0
        self.rebalances = 0  # assignments that gave this sink partitions
        # Read by the web thread (metrics, readiness): plain values, set by the sink thread.
        self.running = False
        self.pending_rows = 0
        self.committed: dict[Partition, int] = {}
        self._consumer: Any = None
        self._retry_at: float | None = None  # set while the warehouse is unavailable
        self._backoff = 0.0
        self._closing = False
        self._producer: Any = None  # for dead letters; made on the first one

    @property
    def paused(self) -> bool:
        return self._retry_at is not None

    def _new_consumer(self) -> Any:
        # Short group timeouts: joins against the embedded broker hang with the defaults.
        return KafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers(),
            group_id=self.group,
            client_id=f"{self.group}-{threading.get_ident()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.fetch_wait_ms,  # see Settings.fetch_wait_ms
            session_timeout_ms=6_000,
            heartbeat_interval_ms=2_000,
            max_poll_interval_ms=10_000,
            max_poll_records=MAX_POLL_RECORDS,
            **client_kwargs(self.settings),
        )

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then flush, commit and leave the group."""
        consumer = self._consumer = self._new_consumer()
        self._closing = False
        consumer.subscribe(topics=list(self.topics), listener=_Rebalance(self))
        log.info("sink joined group %s on %s", self.group, ", ".join(self.topics))
        clean = False
        self.running = True
        try:
            while not stop.is_set():
                self._step(consumer)
                self.pending_rows = self.sink.pending
            clean = True
        finally:
            self.running = False
            self._closing = True
            try:
                if clean:
                    self._final_flush(consumer)
                elif self.sink.pending:
                    log.error(
                        "sink stops abnormally; %d unwritten rows will be redelivered",
                        self.sink.drop_all(),
                    )
            finally:
                consumer.close(autocommit=False)
                if self._producer is not None:
                    self._producer.close(timeout=5)

    def _step(self, consumer: Any) -> None:
        now = time.monotonic()
        if self._retry_at is not None:
            timeout = min(POLL_SECONDS, max(0.0, self._retry_at - now))
        else:
            age = self.sink.oldest_age()
            wait = self.settings.sink_flush_seconds - age if age is not None else POLL_SECONDS
            timeout = min(POLL_SECONDS, max(0.0, wait))
        # Poll even while paused: it keeps this consumer in its group. Whatever poll
        # returns has moved the position, so it must go into the sink, paused or not.
        records = consumer.poll(timeout_ms=int(timeout * 1000), max_records=MAX_POLL_RECORDS)
        for tp, messages in records.items():
            for message in messages:
                self.sink.add(tp.topic, tp.partition, message.offset, message.value)
        if self._retry_at is not None:
            if time.monotonic() >= self._retry_at:
                self._flush(consumer)
        elif self.sink.due(self.settings.sink_flush_seconds):
            self._flush(consumer)

    def _flush(self, consumer: Any) -> None:
        try:
            if self._retry_at is not None and not self.sink.pending:
                self.sink.warehouse.check()  # nothing to write: probe before resuming
            offsets = self.sink.flush()
        except WarehouseUnavailable as exc:
            self._pause(consumer, exc)
            offsets = self.sink.pop_offsets()  # batches written before the failure
        else:
            self._resume(consumer)
        self._commit(consumer, offsets)

    def _pause(self, consumer: Any, exc: WarehouseUnavailable) -> None:
        if self._retry_at is None:
            self.outages += 1
        self._backoff = min(MAX_BACKOFF_SECONDS, max(exc.retry_after, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff
        consumer.pause(*consumer.assignment())
        log.warning(
            "warehouse unavailable, partitions paused, retry in %.1fs: %s", self._backoff, exc
        )

    def _resume(self, consumer: Any) -> None:
        if self._retry_at is None:
            return
        self._retry_at, self._backoff = None, 0.0
        consumer.resume(*consumer.paused())
        log.info("warehouse is back; partitions resumed")

    def _send_dead_letters(self) -> bool:
        """Publish undecodable messages (whole, with the reason) before their offsets commit."""
        letters = self.sink.outbound
        if not letters:
            return True
        try:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.settings.bootstrap_servers(),
                    acks="all",
                    **client_kwargs(self.settings),
                )
            sends = [
                self._producer.send(
                    self.topics.dead_letters,
                    key=letter.source.topic.encode(),
                    value=letter.to_json(),
                )
                for letter in letters
            ]
            for sent in sends:
                sent.get(timeout=30)
        except KafkaError as exc:
            log.warning("dead letters not published yet, commit postponed: %s", exc)
            return False
        letters.clear()
        return True

    def _commit(self, consumer: Any, offsets: dict[Partition, int]) -> None:
        if not offsets or not self._send_dead_letters():
            return
        try:
            consumer.commit(offsets=_kafka_offsets(offsets))
        except KafkaError as exc:  # e.g. a rebalance took the partitions meanwhile
            log.warning("commit failed, those messages will be redelivered: %s", exc)
        else:
            self.committed.update(offsets)

    def _final_flush(self, consumer: Any) -> None:
        deadline = time.monotonic() + FINAL_FLUSH_SECONDS
        while True:
            try:
                offsets = self.sink.flush()
            except WarehouseUnavailable as exc:
                self._commit(consumer, self.sink.pop_offsets())
                if time.monotonic() + exc.retry_after > deadline:
                    log.error(
                        "sink stops with %d unwritten rows; they will be redelivered",
                        self.sink.drop_all(),
                    )
                    return
                time.sleep(exc.retry_after)
                continue
            self._commit(consumer, offsets)
            return

    # Rebalance callbacks run on kafka-python's IO thread while the sink's own thread
    # is blocked inside poll() or close(), so they never race with _step(). They must
    # not block on the consumer (commit() would raise there), hence commit_async().

    def on_revoked(self, revoked: Iterable[Any]) -> None:
        keys = [(tp.topic, tp.partition) for tp in revoked]
        offsets: dict[Partition, int] = {}
        if not self._closing and self._retry_at is None and self.sink.pending:
            try:
                offsets = self.sink.flush()
            except WarehouseUnavailable as exc:
                log.warning("flush on revoke failed: %s", exc)
        offsets |= self.sink.pop_offsets()
        if offsets and not self._closing and self._send_dead_letters():
            self._consumer.commit_async(
                offsets=_kafka_offsets(offsets), callback=self._committed_async
            )
        dropped = self.sink.drop(keys)
        if dropped:
            log.info("dropped %d rows of revoked partitions; they will be redelivered", dropped)

    def _committed_async(self, offsets: dict[Any, Any], response: object) -> None:
        if isinstance(response, Exception):
            log.warning("commit on revoke failed, messages will be redelivered: %s", response)
        else:
            self.committed.update({(tp.topic, tp.partition): o.offset for tp, o in offsets.items()})

    def on_assigned(self, assigned: Iterable[Any]) -> None:
        partitions = list(assigned)
        # Apache Kafka may first assign nothing, when it joins the group before it knows
        # the topics' partitions, and assign again once it does: only work moving here
        # counts (tests/integration/test_sink.py[kafka]).
        if partitions:
            self.rebalances += 1
        log.info("sink assigned %d partitions", len(partitions))
        if self._retry_at is not None and partitions:
            self._consumer.pause(*partitions)

    def on_lost(self, lost: Iterable[Any]) -> None:
        dropped = self.sink.drop([(tp.topic, tp.partition) for tp in lost])
        log.warning("sink lost its partitions; %d unwritten rows will be redelivered", dropped)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python is untyped
    def __init__(self, runner: SinkRunner) -> None:
        self._runner = runner

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self._runner.on_revoked(revoked)

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        self._runner.on_assigned(assigned)

    def on_partitions_lost(self, lost: Iterable[Any]) -> None:
        self._runner.on_lost(lost)
