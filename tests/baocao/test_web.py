"""The combined app of the warehouse service on a real chDB warehouse: lookup and old routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from baocao.context import Context
from baocao.web import build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportRejected, SourceRef, Violation
from contract.registry import Registry
from contract.settings import Settings
from producers.http.auth import TokenStore
from sinks.rows import REJECTIONS_COLUMNS, REPORTS_COLUMNS, rejection_row, report_row
from tests.support.api_app import NOW, FakePublisher
from warehouse.client import Warehouse


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Warehouse, str]]:
    root = Path(tmp_path_factory.mktemp("web"))
    settings = Settings(_env_file=None, chdb_path=root / "warehouse", database="webtest")  # type: ignore[call-arg]
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    _, token = TokenStore(root / "tokens.sqlite").create("173", "user-173", NOW)
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher())
        with TestClient(app) as client:
            yield client, wh, token


def test_receipt_and_history_come_from_the_warehouse(
    web: tuple[TestClient, Warehouse, str],
) -> None:
    client, wh, token = web
    auth = {"Authorization": f"Bearer {token}"}
    body = {
        "dataset": "district-daily",
        "unit_id": "173",
        "report_date": "2021-07-26",
        "values": {"cases_new": 2, "tests_pcr": 10, "tests_pcr_positive": 2},
    }
    receipt = client.post("/api/v1/reports", json=body, headers=auth).json()
    assert receipt["status"] == "received"
    rid = receipt["report_id"]
    submitted = NOW - timedelta(days=1)
    warn = Violation(rule_id="w1", severity="warning", message_vi="cảnh báo", message_en="warning")
    for n, (report_id, cases) in enumerate([(rid, 2), (str(uuid.uuid4()), 5)], 1):
        event = ReportAccepted(
            report_id=uuid.UUID(report_id),
            dataset="district-daily",
            unit_id="173",
            report_date=submitted.date(),
            submitted_at=submitted + timedelta(hours=n),
            submitted_by=f"user-{n}",
            values={"cases_new": cases},
            reason="" if n == 1 else "sửa",
            revision=n,
            timeliness="on_time",
            first_submitted_at=submitted,
            deadline=submitted + timedelta(hours=5),
            warnings=[warn],
            accepted_at=submitted,
        )
        wh.insert(
            "reports",
            [report_row(event, SourceRef(topic="t", partition=0, offset=n))],
            REPORTS_COLUMNS,
        )
    got = client.get(f"/api/v1/reports/{rid}", headers=auth).json()
    assert (got["status"], got["revision"], got["timeliness"]) == ("accepted", 1, "on_time")
    assert got["warnings"][0]["message_vi"] == "cảnh báo"
    history = client.get("/api/v1/units/173/history?days=3", headers=auth).json()
    newest = history["revisions"][0]
    assert newest["submitted_by"] == "user-2" and newest["reason"] == "sửa"
    assert newest["changes"] == [{"key": "cases_new", "old": 2, "new": 5}]
    assert {d["report_date"]: d["status"] for d in history["days"]}["2021-07-26"] == "on_time"

    bad = str(uuid.uuid4())
    client.post(
        "/api/v1/reports",
        json={**body, "report_id": bad, "report_date": "2021-07-27", "values": {"cases_new": 1}},
        headers=auth,
    )
    rejected = ReportRejected(
        rejection_id=uuid.uuid4(),
        rejected_at=NOW,
        report_id=bad,
        unit_id="173",
        errors=[Violation(rule_id="r", severity="error", message_vi="sai", message_en="wrong")],
    )
    wh.insert("rejections", [rejection_row(rejected)], REJECTIONS_COLUMNS)
    got = client.get(f"/api/v1/reports/{bad}", headers=auth).json()
    assert got["status"] == "rejected" and got["errors"][0]["message_en"] == "wrong"


def test_service_routes_still_answer(web: tuple[TestClient, Warehouse, str]) -> None:
    client, _, _ = web
    status = client.get("/api/status").json()
    assert "rows" in status and status["outbox"]["sent"] >= 0
    assert client.get("/api/ledger-history").status_code == 200
    page = client.get("/dashboards")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/submit").status_code == 200
    assert client.get("/dashboards/nope").status_code == 404
