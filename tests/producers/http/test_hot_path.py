"""The submission path asks the warehouse nothing: its answers come from state it keeps.

A profile under 20 clients found 62 % of the service's time in one warehouse query per
revision check and 15 % in another per receipt. Here the service's own app runs on a
real chDB warehouse that counts every query, and the sink (a real ClickHouseSink)
writes decisions the way the running service's does, feeding the desk as it goes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from baocao.context import Context
from baocao.feed import DecisionFeed
from baocao.web import build_app
from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportAccepted
from contract.registry import Registry
from contract.settings import Settings
from producers.http.auth import TokenStore
from sinks.clickhouse import ClickHouseSink
from tests.support.api_app import NOW, TZ, FakePublisher
from warehouse.client import Warehouse


class CountingWarehouse(Warehouse):
    """A warehouse that counts the queries asked of it (inserts are the sink's, not counted)."""

    queries = 0

    def command(self, sql: str, parameters: Any = None) -> Any:
        self.queries += 1
        return super().command(sql, parameters)

    def query_rows(self, sql: str, parameters: Any = None) -> list[tuple[Any, ...]]:
        self.queries += 1
        return super().query_rows(sql, parameters)

    def query_dicts(self, sql: str, parameters: Any = None) -> list[dict[str, Any]]:
        self.queries += 1
        return super().query_dicts(sql, parameters)

    def query_columns(self, sql: str, parameters: Any = None) -> Any:
        self.queries += 1
        return super().query_columns(sql, parameters)


def accepted(body: dict[str, Any], revision: int = 1, by: str = "cli") -> ReportAccepted:
    """What the stream decides for ``body``: the event the sink writes."""
    day = date.fromisoformat(body["report_date"])
    deadline = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=15)
    return ReportAccepted(
        report_id=uuid.UUID(body["report_id"]),
        dataset=body["dataset"],
        unit_id=body["unit_id"],
        report_date=day,
        submitted_at=NOW - timedelta(hours=1),
        submitted_by=by,
        values=body["values"],
        reason=body.get("reason", ""),
        revision=revision,
        timeliness="on_time" if deadline > NOW else "late",
        first_submitted_at=NOW - timedelta(hours=1),
        deadline=deadline,
        accepted_at=NOW,
    )


def body(unit: str = "173", day: str = "2021-07-27", **more: Any) -> dict[str, Any]:
    values = {"cases_new": 2, "tests_pcr": 10, "tests_pcr_positive": 2}
    return {
        "report_id": str(uuid.uuid4()),
        "dataset": "district-daily",
        "unit_id": unit,
        "report_date": day,
        "values": values,
        **more,
    }


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[TestClient, CountingWarehouse, ClickHouseSink, str]]:
    settings = Settings(_env_file=None, chdb_path=tmp_path / "warehouse", database="hot")  # type: ignore[call-arg]
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    _, token = TokenStore(tmp_path / "tokens.sqlite").create("19", "tinh-19", NOW)
    with CountingWarehouse.connect(settings) as wh:
        wh.ensure_schema()
        sink = ClickHouseSink(wh, 10_000)
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
        sink.on_written = DecisionFeed(app.state.desk)  # as baocao/service.py wires it
        with TestClient(app) as client:
            yield client, wh, sink, token


def write(sink: ClickHouseSink, events: list[ReportAccepted]) -> None:
    """Let the sink write decisions as it does from reports.accepted."""
    for offset, event in enumerate(events):
        sink.add(topics.ACCEPTED, 0, offset, event.to_json())
    sink.flush()


def test_submissions_and_their_receipts_ask_the_warehouse_nothing(
    service: tuple[TestClient, CountingWarehouse, ClickHouseSink, str],
) -> None:
    client, wh, sink, token = service
    auth = {"Authorization": f"Bearer {token}"}
    # A report that reached the warehouse by another way (the CLI) for 26 July.
    cli = body(day="2021-07-26")
    write(sink, [accepted(cli)])

    wh.queries = 0
    sent = [
        body(unit=u, day=d) for u in ("164", "165", "173") for d in ("2021-07-25", "2021-07-27")
    ]
    for b in sent:
        assert client.post("/api/v1/reports", json=b, headers=auth).status_code == 201
    again = client.post("/api/v1/reports", json=sent[0], headers=auth)
    assert again.status_code == 200 and again.json()["report_id"] == sent[0]["report_id"]
    # the CLI's report_id: a re-send is recognised, other content is a conflict
    known = client.post("/api/v1/reports", json=cli, headers=auth)
    assert known.status_code == 200 and known.json()["status"] == "accepted", known.text
    other = {**cli, "values": {"cases_new": 9}}
    assert client.post("/api/v1/reports", json=other, headers=auth).status_code == 409
    # a correction of the CLI's report after its deadline: the policy, from kept state
    fix = body(day="2021-07-26")
    refused = client.post("/api/v1/reports", json=fix, headers=auth)
    assert refused.status_code == 422 and refused.json()["reasons"][0]["code"] == "reason_required"
    fixed = client.post("/api/v1/reports", json={**fix, "reason": "sửa số / fixed"}, headers=auth)
    assert fixed.status_code == 201
    assert wh.queries == 0, f"{wh.queries} warehouse queries for {len(sent) + 5} submissions"

    # The sink writes the stream's decisions: receipts show them, still without a query.
    write(sink, [accepted(b, by="tinh-19") for b in sent])
    for b in sent:
        got = client.get(f"/api/v1/reports/{b['report_id']}", headers=auth).json()
        assert (got["status"], got["revision"]) == ("accepted", 1)
    assert wh.queries == 0
    # One the sink has not written yet: the receipt asks the warehouse, once.
    undecided = client.get(f"/api/v1/reports/{fixed.json()['report_id']}", headers=auth).json()
    assert undecided["status"] == "received" and wh.queries == 1


def test_a_restarted_service_knows_the_warehouse_from_two_queries(
    service: tuple[TestClient, CountingWarehouse, ClickHouseSink, str], tmp_path: Path
) -> None:
    client, wh, sink, token = service
    auth = {"Authorization": f"Bearer {token}"}
    cli = body(day="2021-07-26")
    write(sink, [accepted(cli)])
    settings = Settings(_env_file=None, chdb_path=tmp_path / "warehouse", database="hot")  # type: ignore[call-arg]
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    wh.queries = 0
    app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
    with TestClient(app) as again:
        assert wh.queries == 2  # the kept days' revisions and the accepted reviews, once
        known = again.post("/api/v1/reports", json=cli, headers=auth)
        assert known.status_code == 200 and known.json()["status"] == "accepted"
        late = again.post("/api/v1/reports", json=body(day="2021-07-26"), headers=auth)
        assert late.status_code == 422
    assert wh.queries == 2
    # A day older than the kept ones is asked of the warehouse: one query.
    old = client.post("/api/v1/reports", json=body(day="2021-07-01"), headers=auth)
    assert old.status_code == 201 and wh.queries == 3
