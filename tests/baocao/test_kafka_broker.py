"""The local Apache Kafka: pinned with the production image, configured for one node."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from baocao import kafka_broker
from baocao.broker import BrokerError, EmbeddedBroker, configured_kind

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_broker_is_the_version_the_compose_file_runs() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image = compose["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{kafka_broker.version()}"
    assert int(kafka_broker.version().split(".")[0]) >= 4  # the line KIP-896 changed


def test_one_node_kraft_properties_keep_data_where_asked(tmp_path: Path) -> None:
    text = kafka_broker.properties("127.0.0.1", 9092, 9093, tmp_path / "data")
    props = dict(line.split("=", 1) for line in text.splitlines() if line)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", kafka_broker.cluster_id())


def test_a_cluster_id_never_starts_with_a_dash() -> None:
    """kafka-storage would read it as an option: one broker start in 64 failed."""
    ids = [kafka_broker.cluster_id() for _ in range(3000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {i[0] for i in ids} >= {"A", "_", "z"}  # still random in the first character


def test_the_broker_kind_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAOCAO_EMBEDDED_BROKER", raising=False)
    assert configured_kind() == "tansu"
    monkeypatch.setenv("BAOCAO_EMBEDDED_BROKER", "Kafka")
    assert configured_kind() == "kafka"
    assert EmbeddedBroker().name == "Apache Kafka"
    monkeypatch.setenv("BAOCAO_EMBEDDED_BROKER", "redpanda")
    with pytest.raises(BrokerError, match="tansu hoặc kafka / must be tansu or kafka"):
        configured_kind()


def test_without_java_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_broker.shutil, "which", lambda name: None)
    with pytest.raises(kafka_broker.KafkaUnavailable) as err:
        kafka_broker.require()
    assert "Chưa cài Java" in str(err.value) and "Java 17 or newer" in str(err.value)
