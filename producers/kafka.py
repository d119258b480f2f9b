"""Publish reports to Kafka with kafka-python: keyed by unit_id, batched, acks=all."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from kafka import KafkaProducer
from kafka.errors import KafkaError

from contract import topics
from contract.events import ReportSubmitted
from contract.kafka_security import client_kwargs
from contract.settings import Settings
from producers.errors import PublishError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """Proof the broker has a report: where it was written."""

    report_id: str
    unit_id: str
    dataset: str
    report_date: str
    topic: str
    partition: int
    offset: int


class ReportProducer:
    """Send many reports at once and wait for every acknowledgement.

    One synchronous send per message is ~100x slower than letting the client batch,
    so sends are queued together and confirmed with one flush.
    """

    def __init__(
        self, settings: Settings, topic: str = topics.SUBMITTED, timeout_s: float = 30.0
    ) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=settings.bootstrap_servers(),
                acks="all",
                linger_ms=5,
                batch_size=256 * 1024,
                max_request_size=max(1024 * 1024, settings.max_payload_bytes * 2),
                retries=5,
                # One in-flight request keeps a unit's reports in order through retries.
                max_in_flight_requests_per_connection=1,
                request_timeout_ms=int(timeout_s * 1000),
                max_block_ms=int(timeout_s * 1000),
                **client_kwargs(settings),
            )
        except KafkaError as exc:
            raise PublishError(
                f"broker {settings.broker} unreachable: {exc}. "
                f"Không kết nối được máy chủ Kafka {settings.broker}."
            ) from exc

    def send(self, reports: Iterable[ReportSubmitted]) -> list[Receipt]:
        """Publish reports and return one receipt each, in order, once all are acked."""
        pending = []
        for report in reports:
            future = self._producer.send(
                self.topic, key=report.unit_id.encode(), value=report.to_json()
            )
            pending.append((report, future))
        self._producer.flush(timeout=self.timeout_s)
        receipts = []
        for report, future in pending:
            try:
                meta = future.get(timeout=self.timeout_s)
            except KafkaError as exc:
                raise PublishError(
                    f"report {report.report_id} was not confirmed by the broker: {exc}"
                ) from exc
            receipts.append(
                Receipt(
                    str(report.report_id),
                    report.unit_id,
                    report.dataset,
                    report.report_date.isoformat(),
                    meta.topic,
                    meta.partition,
                    meta.offset,
                )
            )
        return receipts

    def send_raw(self, key: bytes | None, value: bytes) -> None:
        """Publish bytes as they are (tests and replays of foreign messages)."""
        self._producer.send(self.topic, key=key, value=value).get(timeout=self.timeout_s)

    def close(self) -> None:
        self._producer.close(timeout=self.timeout_s)

    def __enter__(self) -> ReportProducer:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
