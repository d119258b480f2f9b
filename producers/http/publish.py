"""A publisher that survives a broker outage: connect lazily, fail fast, reconnect later."""

from __future__ import annotations

import contextlib
import threading

from kafka.errors import KafkaError

from contract.events import ReportSubmitted
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


def _close_quietly(producer: ReportProducer) -> None:
    # Unsent data of a dead connection is still in the outbox; nothing is lost here.
    with contextlib.suppress(KafkaError, OSError):
        producer.close()
