"""Every Kafka client the pipeline builds gets the TLS/SASL options from the settings.

No SASL broker exists on these machines (the embedded Tansu speaks PLAINTEXT only), so
each builder is called with the client class replaced by a recorder of its kwargs.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

import producers.http.publish
import producers.kafka
import sinks.consumer
import sinks.notify.service
from baocao import broker, status
from contract import topics
from contract.events import ReportSubmitted
from contract.settings import Settings
from producers.http.courier import Courier
from producers.http.outbox import Outbox
from sinks.consumer import SinkRunner
from sinks.notify.service import Notifier

SECURE = {
    "security_protocol": "SASL_PLAINTEXT",
    "sasl_mechanism": "SCRAM-SHA-256",
    "sasl_plain_username": "baocao",
    "sasl_plain_password": "pw-123456",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        broker="kafka-1:9094",
        data_dir=tmp_path,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="baocao",
        kafka_sasl_password="pw-123456",
        notify_heartbeat_file=tmp_path / "notify.beat",
    )


class Recorder:
    """Stands in for a kafka-python client class: remembers how it was built."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Recorder.built.append(kwargs)
        self.stop: threading.Event | None = None

    def __getattr__(self, name: str) -> Any:
        answers: dict[str, Any] = {
            "list_topics": [],
            "list_group_offsets": {},
            "poll": {},
            "send": _Future(),
        }
        if self.stop is not None and name == "poll":
            self.stop.set()
        return lambda *a, **k: answers.get(name)


class _Future:
    def get(self, timeout: float | None = None) -> Any:
        return type("Meta", (), {"topic": topics.SUBMITTED, "partition": 0, "offset": 7})()


@pytest.fixture(autouse=True)
def fresh() -> None:
    Recorder.built.clear()


def assert_secured(kwargs: dict[str, Any]) -> None:
    assert {k: kwargs.get(k) for k in SECURE} == SECURE
    assert kwargs["bootstrap_servers"] in (["kafka-1:9094"], "kafka-1:9094")


def report() -> ReportSubmitted:
    return ReportSubmitted(
        report_id=uuid.uuid4(),
        dataset="district-daily",
        unit_id="173",
        report_date=date(2021, 7, 27),
        submitted_at=datetime(2021, 7, 27, 3, tzinfo=UTC),
        submitted_by="test",
        values={"cases_new": 1},
    )


def test_report_producer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(producers.kafka, "KafkaProducer", Recorder)
    producers.kafka.ReportProducer(settings)
    (kwargs,) = Recorder.built
    assert_secured(kwargs)
    assert kwargs["acks"] == "all"  # the publisher's own options are still there


def test_outbox_courier_publishes_through_a_secured_producer(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(producers.kafka, "KafkaProducer", Recorder)
    outbox = Outbox(tmp_path / "outbox.sqlite")
    queued = report()
    outbox.add(queued, "fp", [])
    outbox.mark_queued([str(queued.report_id)])
    courier = Courier(outbox, producers.http.publish.KafkaPublisher(settings))
    assert courier.deliver_once() == 1
    (kwargs,) = Recorder.built
    assert_secured(kwargs)


def test_sink_consumer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks.consumer, "KafkaConsumer", Recorder)
    SinkRunner(settings, warehouse=None)._new_consumer()  # type: ignore[arg-type]
    (kwargs,) = Recorder.built
    assert_secured(kwargs)
    assert kwargs["group_id"] == topics.SINK_GROUP


def test_notifier_consumer_and_heartbeat(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = threading.Event()

    def consumer(*args: Any, **kwargs: Any) -> Recorder:
        built = Recorder(*args, **kwargs)
        built.stop = stop  # the first poll ends the run
        return built

    monkeypatch.setattr(sinks.notify.service, "KafkaConsumer", consumer)
    Notifier(settings).run(stop)
    (kwargs,) = Recorder.built
    assert_secured(kwargs)
    assert kwargs["group_id"] == topics.NOTIFY_GROUP
    assert settings.notify_heartbeat_file is not None
    assert settings.notify_heartbeat_file.exists()  # the loop beat before it polled


def test_status_admin_and_consumer(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "AdminClient", Recorder)
    monkeypatch.setattr(status, "KafkaConsumer", Recorder)
    report = status.StatusReport(broker=settings.broker, broker_ok=False)
    status.broker_status(settings, report)
    assert report.broker_ok
    admin, consumer = Recorder.built
    assert_secured(admin)
    assert_secured(consumer)


def test_create_topics_passes_client_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    from contract.kafka_security import client_kwargs

    secured = Settings(  # type: ignore[call-arg]
        _env_file=None,
        broker="kafka-1:9094",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="baocao",
        kafka_sasl_password="pw-123456",
    )
    monkeypatch.setattr(broker, "KafkaAdminClient", Recorder)
    broker.create_topics(secured.broker, topics.specs(4), client_kwargs=client_kwargs(secured))
    (kwargs,) = Recorder.built
    assert_secured(kwargs)
