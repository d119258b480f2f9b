"""With a real broker: 201 when it acks, 202 queued while it is down, delivered when back.

The service is restarted while the broker is down, so delivery also proves the outbox
kept the queued report across a restart, and re-sent the acknowledged one the broker
forgot (no decision in the warehouse).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition

from baocao.broker import EmbeddedBroker, create_topics
from contract import topics
from contract.settings import Settings
from producers.http.publish import KafkaPublisher
from tests.support.api_app import build, report

pytestmark = pytest.mark.integration


def _read_ids(bootstrap: str) -> list[str]:
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], consumer_timeout_ms=3000)
    parts = [TopicPartition(topics.SUBMITTED, p) for p in range(2)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    import json

    ids = [json.loads(m.value)["report_id"] for m in consumer]
    consumer.close()
    return ids


def test_queued_while_broker_down_then_delivered_after_restart(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    broker.start()
    try:
        create_topics(broker.bootstrap, topics.specs(2))
        settings = Settings(_env_file=None, broker=broker.bootstrap, max_payload_bytes=4096)  # type: ignore[call-arg]
        publisher = KafkaPublisher(settings, timeout_s=3.0)
        app, _, _, _, tokens = build(tmp_path, publisher, settings)
        auth = {"Authorization": f"Bearer {tokens['173']}"}
        with TestClient(app) as client:
            ok = client.post("/api/v1/reports", json=report(), headers=auth)
            assert ok.status_code == 201, ok.text
            assert ok.json()["status"] == "received" and ok.json()["offset"] is not None
            assert _read_ids(broker.bootstrap) == [ok.json()["report_id"]]

            broker.stop()
            started = time.monotonic()
            queued = client.post(
                "/api/v1/reports", json=report(report_date="2021-07-26"), headers=auth
            )
            answered_in = time.monotonic() - started
            assert queued.status_code == 202, queued.text
            assert queued.json()["status"] == "queued"
            print(f"queued answer after the broker stopped: {answered_in:.2f}s")
            assert answered_in < 20, answered_in
        publisher.close()

        # The service restarts, then the broker comes back on the same port (empty).
        broker.start()
        create_topics(broker.bootstrap, topics.specs(2))
        publisher = KafkaPublisher(settings, timeout_s=3.0)
        # the restarted service opens the same outbox file as the first one
        app2, *_ = build(tmp_path / "again", publisher, settings, tmp_path / "outbox.sqlite")
        with TestClient(app2):
            deadline = time.monotonic() + 60
            while app2.state.desk.outbox.count("queued") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert app2.state.desk.outbox.count("queued") == 0, "the outbox was not delivered"
        publisher.close()
        # The broker came back empty: the report it had acknowledged (201) before it
        # stopped has no decision in the warehouse, so the outbox sends it again, first.
        assert _read_ids(broker.bootstrap) == [ok.json()["report_id"], queued.json()["report_id"]]
    finally:
        broker.stop()
