"""The notifier: read the alerts topic, deliver each alert once per routed channel.

A plain Kafka consumer (as the warehouse sink): offsets are committed only after every
alert of a poll was delivered or dead-lettered, so a crash repeats a few deliveries
(receivers drop them by alert_id) and never loses one. A message on the topic that is
not an alert is counted and skipped here; the warehouse sink, which reads the same
topic, puts it whole on the dead-letter topic, so the operator hears of it once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer
from pydantic import ValidationError

from contract import topics
from contract.events import Alert
from contract.heartbeat import Heartbeat
from contract.kafka_security import client_kwargs
from contract.settings import Settings
from contract.topics import NOTIFY_GROUP
from sinks.notify.channels import Channel, DeliveryFailed, EmailChannel, LogChannel, WebhookChannel
from sinks.notify.routing import channels_for, parse_routes

log = logging.getLogger(__name__)

#: Deliveries remembered for dropping repeats (a redelivered poll, a re-sent alert).
REMEMBER = 100_000


def channels_from(settings: Settings) -> dict[str, Channel]:
    """The channels the settings configure; log is always there."""
    out: dict[str, Channel] = {"log": LogChannel()}
    if settings.notify_webhook_url:
        out["webhook"] = WebhookChannel(
            settings.notify_webhook_url,
            settings.notify_webhook_secret.get_secret_value().encode(),
            settings.notify_retries,
            settings.notify_backoff_seconds,
        )
    if settings.notify_smtp_host and settings.notify_smtp_to:
        out["email"] = EmailChannel(
            settings.notify_smtp_host,
            settings.notify_smtp_port,
            settings.notify_smtp_from,
            settings.notify_smtp_to,
        )
    return out


class Notifier:
    """Route, deliver and dead-letter alerts."""

    def __init__(self, settings: Settings, channels: dict[str, Channel] | None = None) -> None:
        self.settings = settings
        self.routes = parse_routes(settings.notify_routes)
        self.channels = channels if channels is not None else channels_from(settings)
        self.delivered: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.dead = 0
        self.malformed = 0  # messages on the topic that were not alerts

    def handle(self, alert: Alert) -> None:
        """Deliver one alert to each routed channel it has not reached yet."""
        for name in channels_for(alert, self.routes):
            channel = self.channels.get(name)
            if channel is None or (alert.alert_id, name) in self.delivered:
                continue
            try:
                channel.deliver(alert)
            except DeliveryFailed as exc:
                self.dead_letter(alert, name, str(exc))
            self.delivered[(alert.alert_id, name)] = None
            if len(self.delivered) > REMEMBER:
                self.delivered.popitem(last=False)

    def dead_letter(self, alert: Alert, channel: str, error: str) -> None:
        """Keep an undeliverable alert on disk for an operator to replay."""
        self.dead += 1
        log.error(
            "alert %s not delivered by %s: %s",
            alert.alert_id,
            channel,
            error,
            extra={"alert_id": alert.alert_id, "unit_id": alert.unit_id, "dataset": alert.dataset},
        )
        path = self.settings.notify_dead_letter_path
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "channel": channel,
            "error": error,
            "failed_at": datetime.now(UTC).isoformat(),
            "alert": json.loads(alert.to_json()),
        }
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def new_consumer(self, topic: str) -> Any:
        return KafkaConsumer(
            topic,
            bootstrap_servers=self.settings.bootstrap_servers(),
            group_id=NOTIFY_GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.settings.fetch_wait_ms,  # see Settings.fetch_wait_ms
            **client_kwargs(self.settings),
        )

    def run(self, stop: threading.Event, topic: str = topics.ALERTS) -> None:
        """Consume until ``stop`` is set."""
        consumer = self.new_consumer(topic)
        heartbeat = Heartbeat(self.settings.notify_heartbeat_file)
        try:
            while not stop.is_set():
                heartbeat.beat()
                polled = consumer.poll(500, max_records=500)
                for records in polled.values():
                    for record in records:
                        try:
                            alert = Alert.model_validate_json(record.value or b"")
                        except ValidationError as exc:
                            self.malformed += 1
                            log.warning(
                                "skipped a malformed alert at %s: %s",
                                record.offset,
                                exc,
                                extra={"topic": record.topic, "offset": record.offset},
                            )
                            continue
                        self.handle(alert)
                if polled:
                    consumer.commit()
        finally:
            consumer.close()
