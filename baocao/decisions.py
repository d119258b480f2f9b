"""Wait for the stream's decisions on reports just sent: `baocao submit --wait`.

The broker's receipt only says a report arrived. Whether it was accepted (its
revision, its timeliness) or rejected (and why) is decided by a worker a moment
later, on ``reports.accepted`` / ``reports.rejected``. This reads both topics from
where they ended before the send, until every report has its decision or time is up.
A re-send of a report_id already decided gets no new decision (it is dropped as a
duplicate), so a missing decision is said plainly rather than guessed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from contract import topics
from contract.kafka_security import client_kwargs
from contract.settings import Settings

DECISION_TOPICS = (topics.ACCEPTED, topics.REJECTED)


@dataclass(frozen=True)
class Decision:
    """What the stream decided for one report."""

    report_id: str
    accepted: bool
    revision: int | None = None
    timeliness: str | None = None
    #: (rule_id, message_vi, message_en): errors of a rejection, warnings of an acceptance
    reasons: list[tuple[str, str, str]] = field(default_factory=list)


def parse(topic: str, value: bytes) -> Decision | None:
    """The decision one message carries, or None when it names no report."""
    try:
        obj: Any = json.loads(value)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    report_id = obj.get("report_id")
    if not isinstance(report_id, str):
        return None
    accepted = topic == topics.ACCEPTED
    listed = obj.get("warnings" if accepted else "errors") or []
    reasons = [
        (str(v.get("rule_id", "")), str(v.get("message_vi", "")), str(v.get("message_en", "")))
        for v in listed
        if isinstance(v, dict)
    ]
    if accepted:
        return Decision(report_id, True, obj.get("revision"), obj.get("timeliness"), reasons)
    return Decision(report_id, False, reasons=reasons)


class DecisionReader:
    """Mark where the decision topics end now; later, read on from there."""

    def __init__(self, settings: Settings) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers(),
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.fetch_wait_ms,
            **client_kwargs(settings),
        )
        try:
            parts = [
                TopicPartition(topic, p)
                for topic in DECISION_TOPICS
                for p in sorted(self._consumer.partitions_for_topic(topic) or ())
            ]
            if not parts:
                raise RuntimeError(f"no partitions for {', '.join(DECISION_TOPICS)}")
            self._consumer.assign(parts)
            # Positions now, before the reports are sent: their decisions can only come later.
            for tp, offset in self._consumer.end_offsets(parts).items():
                self._consumer.seek(tp, offset)
        except BaseException:
            self._consumer.close()
            raise

    def wait(
        self,
        report_ids: Iterable[str],
        timeout: float,
        now: Callable[[], float] = time.monotonic,
    ) -> dict[str, Decision]:
        """Decisions for ``report_ids`` seen within ``timeout`` seconds (maybe not all)."""
        wanted = set(report_ids)
        found: dict[str, Decision] = {}
        deadline = now() + timeout
        while wanted - found.keys() and now() < deadline:
            polled = self._consumer.poll(timeout_ms=200, max_records=5000)
            for tp, records in polled.items():
                for record in records:
                    decision = parse(tp.topic, record.value or b"")
                    if decision is not None and decision.report_id in wanted:
                        found[decision.report_id] = decision
        return found

    def close(self) -> None:
        self._consumer.close(autocommit=False)
