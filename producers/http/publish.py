"""Publishers that survive a broker outage: connect lazily, fail fast, reconnect later."""

from __future__ import annotations

import contextlib
import threading

from kafka import KafkaProducer
from kafka.errors import KafkaError

from contract import topics
from contract.events import ApprovalRecorded, ReportSubmitted
from contract.kafka_security import client_kwargs
from contract.settings import Settings
from producers.errors import PublishError
from producers.kafka import Receipt, ReportProducer


class KafkaPublisher:
    """Send reports with ReportProducer (acks=all); raise PublishError when the broker is away.

    A request must answer "queued" within seconds when the broker is down, so the
    producer's timeouts are short; a failed producer is dropped and rebuilt on the next
    send, because kafka-python keeps retrying a dead connection otherwise.
    """

    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._producer: ReportProducer | None = None
        self._lock = threading.Lock()  # one send at a time keeps a unit's reports in order

    def send(self, reports: list[ReportSubmitted]) -> list[Receipt]:
        with self._lock:
            try:
                if self._producer is None:
                    self._producer = ReportProducer(self.settings, timeout_s=self.timeout_s)
                return self._producer.send(reports)
            except (PublishError, KafkaError, OSError, AssertionError) as exc:
                self._drop()
                raise PublishError(
                    f"broker {self.settings.broker} did not confirm: {exc} / "
                    f"máy chủ Kafka {self.settings.broker} chưa xác nhận"
                ) from exc

    def _drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # Closing waits up to timeout_s for a dead broker: do it off the request thread.
            threading.Thread(target=_close_quietly, args=(producer,), daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._drop()


class KafkaApprovalPublisher:
    """Send review decisions to ``approvals`` (key = unit_id, acks=all); PublishError when
    the broker is away. Nothing is queued: the reviewer is told, and tries again."""

    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def send_approvals(self, decisions: list[ApprovalRecorded]) -> None:
        """Return once the broker acknowledged every decision (one flush for them all)."""
        with self._lock:
            try:
                if self._producer is None:
                    self._producer = self._connect()
                sent = [
                    self._producer.send(topics.APPROVALS, key=d.unit_id.encode(), value=d.to_json())
                    for d in decisions
                ]
                self._producer.flush(timeout=self.timeout_s)
                for future in sent:
                    future.get(timeout=self.timeout_s)
            except (KafkaError, OSError, AssertionError) as exc:
                producer, self._producer = self._producer, None
                if producer is not None:
                    threading.Thread(target=_close_kafka, args=(producer,), daemon=True).start()
                raise PublishError(
                    f"broker {self.settings.broker} did not confirm: {exc} / "
                    f"máy chủ Kafka {self.settings.broker} chưa xác nhận"
                ) from exc

    def _connect(self) -> KafkaProducer:
        ms = int(self.timeout_s * 1000)
        return KafkaProducer(
            bootstrap_servers=self.settings.bootstrap_servers(),
            acks="all",
            retries=5,
            # One in-flight request keeps a unit's decisions in order through retries.
            max_in_flight_requests_per_connection=1,
            request_timeout_ms=ms,
            max_block_ms=ms,
            **client_kwargs(self.settings),
        )

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            _close_kafka(producer)


def _close_kafka(producer: KafkaProducer) -> None:
    with contextlib.suppress(KafkaError, OSError):
        producer.close(timeout=5)


def _close_quietly(producer: ReportProducer) -> None:
    # Unsent data of a dead connection is still in the outbox; nothing is lost here.
    with contextlib.suppress(KafkaError, OSError):
        producer.close()
