"""The ClickHouse sink: batch decoded events per topic-partition, write them idempotently.

Contract (after quix-streams' sinks): ``add()`` a message into the open batch of its
(topic, partition); ``flush()`` seals every open batch and ``_write()``s the sealed ones
in offset order; it returns the next offset to commit per partition. A batch's inserts
carry a deduplication token derived from what the batch *is* (table, topic, partition,
first and last offset, a digest of the messages), so writing the same batch again --
after a failure, or after a crash between insert and commit -- adds nothing. On a
warehouse failure ``WarehouseUnavailable`` propagates and the batches stay, unchanged,
for the retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from pydantic import ValidationError

from contract import topics as contract_topics
from contract.events import (
    Alert,
    ApprovalRecorded,
    DeadLetter,
    LevelAssessed,
    ReportAccepted,
    ReportRejected,
    SourceRef,
)
from sinks import rows as r
from sinks import signal_rows
from warehouse.client import Warehouse
from warehouse.errors import RowError, WarehouseUnavailable
from warehouse.table import Row

log = logging.getLogger(__name__)

Partition = tuple[str, int]

#: Write order inside a batch: values before the audit row, so a reader that sees a
#: report in ``reports`` also finds its values. report_values_latest relies on it: it
#: takes each unit-day's latest report from ``reports``.
TABLE_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("report_values", r.REPORT_VALUES_COLUMNS),
    ("reports", r.REPORTS_COLUMNS),
    ("rejections", r.REJECTIONS_COLUMNS),
    ("alerts", r.ALERTS_COLUMNS),
    # after `alerts`: a reader that sees a signal's state also finds the alert that set it
    ("signals", signal_rows.SIGNALS_COLUMNS),
    ("levels", signal_rows.LEVELS_COLUMNS),
    ("approvals", r.APPROVALS_COLUMNS),
    ("dead_letters", r.DEAD_LETTERS_COLUMNS),
)

COLUMNS = dict(TABLE_ORDER)
#: What one message adds to a table: rows, or a report's value rows in their compact form.
TableRows = list[Row] | r.ReportValues


class SinkTopics(NamedTuple):
    """Which topic carries which event (tests use uniquely named topics).

    New topics go last: callers name the first ones by position.
    """

    accepted: str = contract_topics.ACCEPTED
    rejected: str = contract_topics.REJECTED
    alerts: str = contract_topics.ALERTS
    dead_letters: str = contract_topics.DEAD_LETTERS
    levels: str = contract_topics.LEVELS
    approvals: str = contract_topics.APPROVALS


@dataclass
class Batch:
    """Rows decoded from one run of consecutive offsets of one topic-partition."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int = -1
    started: float = field(default_factory=time.monotonic)
    #: Each table's rows as columns, ready for a column-oriented insert.
    rows: dict[str, r.ColumnBlock] = field(default_factory=dict)
    size: int = 0
    messages: int = 0
    digest: hashlib.blake2b = field(
        init=False, repr=False, default_factory=lambda: hashlib.blake2b(digest_size=16)
    )

    def add(self, offset: int, value: bytes | None, table_rows: dict[str, TableRows]) -> None:
        self.last_offset = offset
        self.messages += 1
        self.digest.update(offset.to_bytes(8, "big", signed=True))
        self.digest.update(len(value or b"").to_bytes(8, "big"))
        self.digest.update(value or b"")
        for table, new in table_rows.items():
            block = self.rows.get(table)
            if block is None:
                block = self.rows[table] = r.ColumnBlock(len(COLUMNS[table]))
            block.add(new)
            self.size += len(new)

    def token(self, table: str) -> str:
        # The digest keeps tokens unique when offsets restart from 0 (the embedded broker
        # forgets everything on restart, the warehouse does not).
        return (
            f"{table}/{self.topic}/{self.partition}/{self.first_offset}-{self.last_offset}"
            f"/{self.digest.hexdigest()}"
        )


@dataclass
class SinkStats:
    """What an operator wants to know about the sink at a glance.

    ``rows_written`` counts rows the warehouse accepted per table, including a retried
    block it then dropped as a duplicate; the warehouse itself is the exact count.
    """

    rows_written: dict[str, int] = field(default_factory=dict)
    batches_written: int = 0
    messages: int = 0
    messages_written: int = 0
    dead_letters: int = 0
    failures: int = 0
    last_flush_at: datetime | None = None
    last_error: str | None = None


def _ids(value: bytes | None) -> dict[str, str]:
    """unit_id and report_id of an undecodable message, when it still has them (for logs)."""
    try:
        obj = json.loads(value or b"")
    except ValueError:
        return {}
    if not isinstance(obj, dict):
        return {}
    return {k: str(obj[k])[:64] for k in ("unit_id", "report_id") if obj.get(k) is not None}


class ClickHouseSink:
    """Batch events per (topic, partition) and write them to the warehouse idempotently."""

    def __init__(
        self, warehouse: Warehouse, batch_rows: int, topics: SinkTopics | None = None
    ) -> None:
        self.warehouse = warehouse
        self.batch_rows = batch_rows
        self.topics = topics or SinkTopics()
        self.stats = SinkStats()
        self._open: dict[Partition, Batch] = {}
        self._sealed: dict[Partition, deque[Batch]] = {}
        self._ready: dict[Partition, int] = {}
        #: Undecodable messages to publish on the dead-letter topic before their offsets
        #: are committed; the sink reads them back from there into `dead_letters`.
        self.outbound: list[DeadLetter] = []
        #: Called with each batch once the warehouse confirmed it (the API's kept state).
        self.on_written: Callable[[Batch], None] | None = None

    def add(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        """Decode one message into rows of its batch; an undecodable one becomes a dead letter."""
        ref = SourceRef(topic=topic, partition=partition, offset=offset)
        try:
            table_rows = self._decode(ref, value)
        except (ValidationError, ValueError, RowError) as exc:
            log.warning(
                "dead letter %s[%d]@%d: %s",
                topic,
                partition,
                offset,
                exc,
                extra={"topic": topic, "partition": partition, "offset": offset, **_ids(value)},
            )
            self.stats.dead_letters += 1
            reason = f"{type(exc).__name__}: {exc}"
            if topic == self.topics.dead_letters:  # a bad dead letter: store it as it is
                row = r.dead_letter_row(ref, reason, value, datetime.now(UTC))
                table_rows = {"dead_letters": [row]}
            else:
                now = datetime.now(UTC)
                self.outbound.append(DeadLetter.of(ref, "sink", reason, None, value, now))
                table_rows = {}
        key = (topic, partition)
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = Batch(topic, partition, first_offset=offset)
        batch.add(offset, value, table_rows)
        self.stats.messages += 1

    def _decode(self, ref: SourceRef, value: bytes | None) -> dict[str, TableRows]:
        if value is None:
            raise ValueError("empty message (tombstone)")
        if ref.topic == self.topics.accepted:
            accepted = ReportAccepted.model_validate_json(value)
            return {
                "report_values": r.ReportValues(accepted),
                "reports": [r.report_row(accepted, ref)],
            }
        if ref.topic == self.topics.rejected:
            return {"rejections": [r.rejection_row(ReportRejected.model_validate_json(value))]}
        if ref.topic == self.topics.alerts:
            alert = Alert.model_validate_json(value)
            if alert.kind == "anomaly":  # a signal's state, next to the alert that sets it
                return {"alerts": [r.alert_row(alert)], "signals": [signal_rows.signal_row(alert)]}
            return {"alerts": [r.alert_row(alert)]}
        if ref.topic == self.topics.levels:
            return {"levels": [signal_rows.level_row(LevelAssessed.model_validate_json(value))]}
        if ref.topic == self.topics.approvals:
            return {"approvals": [r.approval_row(ApprovalRecorded.model_validate_json(value))]}
        if ref.topic == self.topics.dead_letters:
            letter = DeadLetter.model_validate_json(value)
            error = f"{letter.stage}: {letter.reason}"
            return {
                "dead_letters": [
                    r.dead_letter_row(letter.source, error, letter.value, letter.seen_at)
                ]
            }
        raise ValueError(f"the sink does not handle topic {ref.topic!r}")

    @property
    def pending(self) -> int:
        """Rows waiting to be written (open and sealed batches)."""
        sealed = sum(b.size for q in self._sealed.values() for b in q)
        return sealed + sum(b.size for b in self._open.values())

    def due(self, max_wait: float) -> bool:
        """True when a batch is full, has waited ``max_wait`` seconds, or awaits a retry."""
        if any(self._sealed.values()):
            return True
        now = time.monotonic()
        return any(
            b.size >= self.batch_rows or now - b.started >= max_wait for b in self._open.values()
        )

    def oldest_age(self) -> float | None:
        """Seconds the oldest open batch has waited, or None without open batches."""
        if not self._open:
            return None
        return time.monotonic() - min(b.started for b in self._open.values())

    def flush(self) -> dict[Partition, int]:
        """Write every batch; return the next offset to commit per partition written.

        On failure raise ``WarehouseUnavailable``; unwritten batches stay sealed (same
        tokens next time) and offsets of batches already written stay for the next
        successful ``flush()`` or ``pop_offsets()``.
        """
        for key, batch in self._open.items():
            self._sealed.setdefault(key, deque()).append(batch)
        self._open.clear()
        for key, queue in self._sealed.items():
            while queue:
                try:
                    self._write(queue[0])
                except WarehouseUnavailable as exc:
                    self.stats.failures += 1
                    self.stats.last_error = str(exc)
                    raise
                done = queue.popleft()
                self._ready[key] = done.last_offset + 1
        self._sealed.clear()
        self.stats.last_flush_at = datetime.now(UTC)
        return self.pop_offsets()

    def _write(self, batch: Batch) -> None:
        for table, columns in TABLE_ORDER:
            block = batch.rows.get(table)
            if block is not None and block.size:
                self.warehouse.insert(
                    table, block.columns, columns, batch.token(table), column_oriented=True
                )
                written = self.stats.rows_written
                written[table] = written.get(table, 0) + block.size
        self.stats.batches_written += 1
        self.stats.messages_written += batch.messages
        if self.on_written is not None:
            self.on_written(batch)

    def pop_offsets(self) -> dict[Partition, int]:
        """Hand over the offsets of written batches (once) for the consumer to commit."""
        ready, self._ready = self._ready, {}
        return ready

    def drop(self, partitions: set[Partition] | list[Partition]) -> int:
        """Forget batches and offsets of revoked partitions; return the rows dropped.

        Their messages are redelivered to the partition's next owner from the last
        committed offset, so nothing is lost.
        """
        dropped = 0
        for key in partitions:
            batch = self._open.pop(key, None)
            dropped += batch.size if batch else 0
            dropped += sum(b.size for b in self._sealed.pop(key, deque()))
            self._ready.pop(key, None)
        return dropped

    def drop_all(self) -> int:
        keys = set(self._open) | set(self._sealed) | set(self._ready)
        return self.drop(list(keys))
