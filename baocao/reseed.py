"""Give a freshly started, empty embedded broker the stream state the warehouse remembers:
the ledger, the alerts already sent, and the signals' series (streams/signal_seed.py)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from baocao.broker import create_topics
from baocao.warehouse_client import request, service_url
from contract.datasets import Catalog
from contract.errors import BaocaoError
from contract.registry import Registry
from contract.settings import Settings
from contract.topics import TopicSpec
from streams.seed import (
    ALERTS_SENT_CHANGELOG,
    LEDGER_CHANGELOG,
    Record,
    alerts_sent_records,
    changelog_records,
    ledger_from_history,
)
from streams.signal_seed import CONTRIBUTIONS_CHANGELOG, SERIES_CHANGELOG, signal_records
from streams.signal_watch import engine_of


@dataclass
class Reseeded:
    ledger_entries: int
    alert_marks: int
    signal_series: int = 0


def fetch_history(settings: Settings, path: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    """GET one of the warehouse service's history endpoints, waiting for it to start."""
    url = service_url(settings, path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request(settings, path), timeout=60) as resp:
                rows: list[dict[str, Any]] = json.loads(resp.read())
                return rows
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise BaocaoError(f"warehouse service did not answer at {url}: {exc}") from exc
            time.sleep(0.3)


def reseed(settings: Settings, bootstrap: str) -> Reseeded:
    """Write the ledger's and the sent alerts' changelogs from the warehouse's history."""
    history = fetch_history(settings, "/api/ledger-history")
    alerts = fetch_history(settings, "/api/alert-history")
    ledger = changelog_records(ledger_from_history(history), settings.partitions)
    marks = alerts_sent_records(alerts, settings.partitions)
    write_changelog(bootstrap, LEDGER_CHANGELOG, ledger, settings.partitions)
    write_changelog(bootstrap, ALERTS_SENT_CHANGELOG, marks, settings.partitions)
    series: list[Record] = []
    if settings.signals_enabled:
        registry = Registry.load(settings.registry_path)
        engine = engine_of(settings, registry, Catalog.load(settings.datasets_path))
        series, children = signal_records(engine, history, alerts, settings.partitions)
        write_changelog(bootstrap, SERIES_CHANGELOG, series, settings.partitions)
        write_changelog(bootstrap, CONTRIBUTIONS_CHANGELOG, children, settings.partitions)
    return Reseeded(len(ledger), len(marks), len(series))


def write_changelog(bootstrap: str, topic: str, records: list[Record], partitions: int) -> None:
    create_topics(bootstrap, [TopicSpec(topic, partitions)])
    if not records:
        return
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    try:
        for partition, key, value in records:
            producer.send(topic, key=key, value=value, partition=partition)
        # The worker's recovery reads to the true end (streams.compat.recovery_offsets).
        producer.flush(timeout=60)
    finally:
        producer.close()
