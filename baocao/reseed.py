"""Give a freshly started, empty embedded broker the stream ledger the warehouse remembers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from kafka import KafkaProducer

from baocao.broker import create_topics
from contract.errors import BaocaoError
from contract.settings import Settings
from contract.topics import TopicSpec
from streams.seed import LEDGER_CHANGELOG, changelog_records, ledger_from_history

SENTINEL_KEY = b'"~reseeded"'  # JSON string, like every ledger key


def fetch_history(settings: Settings, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Ask the warehouse service for accepted-report history, waiting for it to start."""
    url = f"http://{settings.http_host}:{settings.http_port}/api/ledger-history"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                rows: list[dict[str, Any]] = json.loads(resp.read())
                return rows
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise BaocaoError(f"warehouse service did not answer at {url}: {exc}") from exc
            time.sleep(0.3)


def reseed_ledger(settings: Settings, bootstrap: str) -> int:
    """Write the ledger's changelog from warehouse history; return how many entries."""
    records = changelog_records(ledger_from_history(fetch_history(settings)), settings.partitions)
    create_topics(bootstrap, [TopicSpec(LEDGER_CHANGELOG, settings.partitions)])
    if not records:
        return 0
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    try:
        for partition, key, value in records:
            producer.send(LEDGER_CHANGELOG, key=key, value=value, partition=partition)
        producer.flush(timeout=60)
        # Tansu reports a partition's end as (first offset of its last batch) + 1, so
        # faust's recovery would stop short. A last batch of one record makes the end
        # exact; the record is a tombstone for a key no report can have.
        for partition in range(settings.partitions):
            producer.send(LEDGER_CHANGELOG, key=SENTINEL_KEY, value=None, partition=partition)
            producer.flush(timeout=60)
    finally:
        producer.close()
    return len(records)
