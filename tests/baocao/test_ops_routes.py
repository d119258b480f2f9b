"""/healthz, /readyz and /metrics of the warehouse service.

The exposition text is checked with Prometheus' own parser (``prometheus_client``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from baocao import metrics
from baocao.context import Context
from baocao.health import add_ops_routes
from baocao.status import StatusReport, TopicLag
from baocao.web import build_app
from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from tests.support.api_app import NOW, FakePublisher
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

RUNNING: dict[str, Any] = {
    "running": True,
    "paused": False,
    "rebalances": 1,
    "pending_rows": 12,
    "messages": 40,
    "messages_written": 28,
    "batches_written": 3,
    "dead_letters": 2,
    "failures": 1,
    "outages": 1,
    "rows_written": {"reports": 20, "report_values": 160},
    "last_flush_at": datetime(2021, 7, 27, 8, 0, tzinfo=UTC),
}


def broker_probe() -> StatusReport:
    return StatusReport(
        broker="test",
        broker_ok=True,
        lags=[
            TopicLag(topics.SUBMITTED, topics.STREAMS_APP_ID, end=100, committed=90, lag=10),
            TopicLag(topics.ACCEPTED, topics.SINK_GROUP, end=80, committed=80, lag=0),
            TopicLag(topics.ALERTS, topics.SINK_GROUP, end=5, committed=2, lag=3),
            TopicLag(topics.ALERTS, topics.NOTIFY_GROUP, end=5, committed=5, lag=0),
        ],
    )


class FakeWarehouse:
    def __init__(self) -> None:
        self.down = False

    def check(self) -> None:
        if self.down:
            raise WarehouseUnavailable("connection refused (test)")

    def query_rows(self, sql: str, parameters: object = None) -> list[tuple[Any, ...]]:
        self.check()
        return [(7,)]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}; raises if Prometheus cannot parse it."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture
def ops() -> Iterator[tuple[TestClient, FakeWarehouse, dict[str, Any]]]:
    app, wh, stats = FastAPI(), FakeWarehouse(), dict(RUNNING)
    add_ops_routes(app, wh, lambda: stats, lambda: {"queued": 2, "sent": 9}, broker_probe)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client, wh, stats


def test_metrics_are_valid_prometheus_text_with_lag_sink_and_warehouse(
    ops: tuple[TestClient, FakeWarehouse, dict[str, Any]],
) -> None:
    client, _, _ = ops
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(resp.text)
    lag = "baocao_consumer_lag"
    assert got[(lag, (("group", topics.STREAMS_APP_ID), ("topic", topics.SUBMITTED)))] == 10
    assert got[(lag, (("group", topics.SINK_GROUP), ("topic", topics.ALERTS)))] == 3
    assert got[("baocao_topic_end_offset", (("topic", topics.SUBMITTED),))] == 100
    assert got[("baocao_broker_up", ())] == 1
    assert got[("baocao_sink_backlog_rows", ())] == 12
    assert got[("baocao_sink_dead_letters_total", ())] == 2
    assert got[("baocao_sink_rows_written_total", (("table", "report_values"),))] == 160
    assert (
        got[("baocao_sink_last_flush_timestamp_seconds", ())]
        == RUNNING["last_flush_at"].timestamp()
    )
    assert got[("baocao_warehouse_up", ())] == 1
    assert got[("baocao_warehouse_rows", (("table", "reports"),))] == 7
    assert got[("baocao_outbox_submissions", (("state", "queued"),))] == 2
    types = {f.name: f.type for f in text_string_to_metric_families(resp.text)}
    assert types["baocao_sink_dead_letters"] == "counter"
    assert types["baocao_consumer_lag"] == "gauge"


def test_metrics_say_when_the_warehouse_is_down(
    ops: tuple[TestClient, FakeWarehouse, dict[str, Any]],
) -> None:
    client, wh, _ = ops
    wh.down = True
    got = samples(client.get("/metrics").text)
    assert got[("baocao_warehouse_up", ())] == 0
    assert not [k for k in got if k[0] == "baocao_warehouse_rows"]


def test_label_values_are_escaped() -> None:
    m = metrics.Metric("x", "gauge", "help with \\ and\nnewline").add(1, table='a"b\\c\nd')
    ((labels, value),) = [
        (s.labels, s.value)
        for f in text_string_to_metric_families(metrics.render([m]))
        for s in f.samples
    ]
    assert labels == {"table": 'a"b\\c\nd'} and value == 1


def test_healthz_always_and_readyz_only_when_the_warehouse_answers_and_the_sink_consumes(
    ops: tuple[TestClient, FakeWarehouse, dict[str, Any]],
) -> None:
    client, wh, stats = ops
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    wh.down = True
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert "warehouse does not answer" in resp.json()["checks"]["warehouse"]["message_en"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    wh.down = False
    for change, words in [
        ({"paused": True}, "paused"),
        ({"rebalances": 0}, "not joined"),
        ({"running": False}, "not running"),
    ]:
        stats.update(RUNNING | change)
        resp = client.get("/readyz")
        assert resp.status_code == 503
        assert words in resp.json()["checks"]["sink"]["message_en"]
        assert resp.json()["checks"]["sink"]["message_vi"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = Path(tmp_path_factory.mktemp("ops"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", database="opstest", data_dir=root
    )
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        app = build_app(ctx, wh, lambda: dict(RUNNING), FakePublisher(), broker_probe)
        with TestClient(app) as client:
            yield client


def test_the_service_app_serves_the_ops_routes_on_a_real_warehouse(service: TestClient) -> None:
    assert service.get("/healthz").status_code == 200
    assert service.get("/readyz").json()["ready"] is True
    got = samples(service.get("/metrics").text)
    assert got[("baocao_warehouse_up", ())] == 1
    assert got[("baocao_warehouse_rows", (("table", "units"),))] == 0
    assert got[("baocao_outbox_submissions", (("state", "queued"),))] == 0
    assert service.get("/api/status").status_code == 200  # the old routes are still there
