"""The approval routes through the service's own app, on a real chDB warehouse.

Reports reach the warehouse the way they do in the service: a real ClickHouseSink
writes the stream's decisions and feeds the desk (``baocao/feed.py``). Decisions the
routes publish are captured, then stored as the sink stores them. The registry is the
demo one with Phú Bình's (173) communes reporting ``district-daily``, so a district has
communes to review.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from baocao.context import Context
from baocao.feed import DecisionFeed
from baocao.web import build_app
from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ApprovalRecorded, ReportAccepted
from contract.registry import Registry, UnitKind
from contract.settings import Settings
from producers.errors import PublishError
from producers.http.auth import Role, TokenStore
from sinks.clickhouse import Batch, ClickHouseSink
from sinks.rows import ColumnBlock
from tests.producers.http.test_openapi import run_schemathesis, schemathesis_bin
from tests.support.api_app import NOW, TZ, FakePublisher, serving
from warehouse.approval_tables import APPROVALS
from warehouse.client import Warehouse

__all__ = ["schemathesis_bin"]  # the fixture, shared with test_openapi.py
DAY = NOW.date()
DATASET = "district-daily"
COMMUNES = ("05908", "05911", "05917")


class CapturedApprovals:
    """The approvals topic: keeps what the routes publish, or refuses like a dead broker."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[ApprovalRecorded] = []

    def send_approvals(self, decisions: list[ApprovalRecorded]) -> None:
        if self.down:
            raise PublishError("broker down (test)")
        self.sent.extend(decisions)


def registry_with_reporting_communes() -> Registry:
    base = Registry.load()
    units = [
        u.model_copy(update={"datasets": [DATASET]})
        if u.kind == UnitKind.COMMUNE and u.district_id == "173"
        else u
        for u in base
    ]
    return Registry(units, base.hierarchy, base.source)


@dataclass
class Service:
    tmp: Path
    settings: Settings
    ctx: Context
    wh: Warehouse
    sink: ClickHouseSink
    app: FastAPI
    client: TestClient
    approvals: CapturedApprovals
    store: TokenStore
    tokens: dict[str, str] = field(default_factory=dict)
    offset: int = 0

    def token(self, unit: str, *roles: Role) -> dict[str, str]:
        key = f"{unit}:{','.join(roles)}"
        if key not in self.tokens:
            _, self.tokens[key] = self.store.create(unit, f"người dùng {unit}", NOW, roles)
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    def reported(self, unit: str, values: dict[str, int], revision: int = 1) -> str:
        """An accepted revision, written by the sink (which feeds the desk)."""
        rid = uuid.uuid4()
        at = NOW - timedelta(hours=2) + timedelta(minutes=revision)
        event = ReportAccepted(
            report_id=rid,
            dataset=DATASET,
            unit_id=unit,
            report_date=DAY,
            submitted_at=at,
            submitted_by=f"người gửi {unit}",
            values=values,
            revision=revision,
            timeliness="on_time",
            first_submitted_at=NOW - timedelta(hours=2),
            deadline=datetime.combine(DAY, datetime.min.time(), TZ) + timedelta(hours=15),
            accepted_at=at,
        )
        self.sink.add(topics.ACCEPTED, 0, self.offset, event.to_json())
        self.offset += 1
        self.sink.flush()
        return str(rid)

    def stored(self) -> None:
        """Store what the routes published, as the sink does, and feed it to the desk."""
        batch = Batch(topics.APPROVALS, 0, 0)
        block = batch.rows["approvals"] = ColumnBlock(len(APPROVALS.column_names))
        block.add([approval_row(e) for e in self.approvals.sent])
        self.wh.insert("approvals", block.columns, APPROVALS.column_names, column_oriented=True)
        DecisionFeed(self.app.state.desk)(batch)

    def listing(self, unit: str, dataset: str = DATASET) -> dict[str, Any]:
        answer = self.client.get(
            "/api/v1/approvals",
            params={"dataset": dataset, "date": DAY.isoformat()},
            headers=self.token(unit, "approve"),
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def decide(
        self,
        unit: str,
        action: str,
        units: list[str],
        reason: str = "",
        revisions: dict[str, int] | None = None,
    ) -> Any:
        body: dict[str, Any] = {
            "action": action,
            "dataset": DATASET,
            "date": DAY.isoformat(),
            "units": units,
        }
        if reason:
            body["reason"] = reason
        if revisions is not None:
            body["revisions"] = revisions
        return self.client.post("/api/v1/approvals", json=body, headers=self.token(unit, "approve"))


def approval_row(e: ApprovalRecorded) -> tuple[Any, ...]:
    """An approval as the sink stores it (``APPROVALS``' column order)."""
    return (
        e.approval_id,
        e.action,
        e.dataset,
        e.unit_id,
        e.report_date,
        e.revision,
        json.dumps(e.values),
        e.by_name,
        e.by_unit,
        e.reason,
        e.decided_at,
    )


def start(
    tmp: Path, wh: Warehouse, store: TokenStore, approvals: CapturedApprovals, **more: Any
) -> FastAPI:
    settings = Settings(_env_file=None, chdb_path=tmp / "warehouse", database="reviews", **more)  # type: ignore[call-arg]
    ctx = Context(settings, registry_with_reporting_communes(), Catalog.load(), ManualClock(NOW))
    return build_app(
        ctx,
        wh,
        lambda: {"paused": False},
        FakePublisher(),
        settle=lambda: True,
        approval_publisher=approvals,
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(_env_file=None, chdb_path=tmp_path / "warehouse", database="reviews")  # type: ignore[call-arg]
    ctx = Context(settings, registry_with_reporting_communes(), Catalog.load(), ManualClock(NOW))
    store = TokenStore(tmp_path / "tokens.sqlite")
    captured = CapturedApprovals()
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        sink = ClickHouseSink(wh, 10_000)
        app = start(tmp_path, wh, store, captured)
        sink.on_written = DecisionFeed(app.state.desk)  # as baocao/service.py wires it
        with TestClient(app) as client:
            yield Service(tmp_path, settings, ctx, wh, sink, app, client, captured, store)


def by_unit(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["unit_id"]: u for u in listing["units"]}


# ---------------------------------------------------------------- the listing


def test_a_district_lists_its_communes_only_and_the_province_more(service: Service) -> None:
    service.reported("05908", {"cases_new": 2, "tests_pcr": 10, "tests_pcr_positive": 2})
    service.reported("173", {"cases_new": 5})
    service.reported("164", {"cases_new": 1})

    district = service.listing("173")
    assert district["reviewer"] == {"unit_id": "173", "name": "Huyện Phú Bình", "kind": "district"}
    units = by_unit(district)
    assert all(u["district_id"] == "173" and u["kind"] == "commune" for u in units.values())
    assert len(units) == 20 and "173" not in units and "164" not in units
    reported = units["05908"]
    assert reported["state"] == "submitted" and reported["revision"] == 1
    assert reported["values"] == {"cases_new": 2, "tests_pcr": 10, "tests_pcr_positive": 2}
    assert reported["timeliness"] == "on_time" and reported["submitted_by"] == "người gửi 05908"
    assert reported["can"] == ["approve", "return"]
    waiting = units["05911"]
    assert (waiting["state"], waiting["revision"], waiting["values"], waiting["can"]) == (
        "not_reported",
        None,
        {},
        [],
    )

    province = by_unit(service.listing("19"))
    assert {"173", "164", "05908", "05911"} <= set(province) and "19" not in province
    assert not any(u.startswith("CP-") for u in province)  # they report checkpoint-daily
    assert province["173"]["can"] == ["approve", "accept", "return"]  # straight to the province
    assert province["05908"]["can"] == ["approve", "return"]  # its district approves first
    checkpoints = by_unit(service.listing("173", "checkpoint-daily"))
    assert sorted(checkpoints) == ["CP-19-01", "CP-19-02", "CP-19-03"]


# ---------------------------------------------------------------- decisions


def test_approve_two_and_return_one_with_a_reason(service: Service) -> None:
    for unit in COMMUNES:
        service.reported(unit, {"cases_new": 1, "tests_pcr": 4, "tests_pcr_positive": 1})
    service.reported("05908", {"cases_new": 2, "tests_pcr": 4, "tests_pcr_positive": 2}, 2)

    done = service.decide("173", "approve", ["05908", "05911"])
    assert done.status_code == 202, done.text
    assert done.json() == {
        "recorded": [
            {
                "unit_id": "05908",
                "approval_id": "approve:district-daily:05908:2021-07-27:r2",
                "state": "approved",
            },
            {
                "unit_id": "05911",
                "approval_id": "approve:district-daily:05911:2021-07-27:r1",
                "state": "approved",
            },
        ],
        "refused": [],
    }
    why = "Số xét nghiệm chưa khớp sổ / test counts do not match the log"
    back = service.decide("173", "return", ["05917"], reason=f"  {why} ")
    assert back.status_code == 202 and back.json()["recorded"][0]["state"] == "returned"

    first, second, returned = service.approvals.sent
    assert (first.unit_id, first.revision, first.action) == ("05908", 2, "approve")
    assert first.values == {"cases_new": 2, "tests_pcr": 4, "tests_pcr_positive": 2}
    assert first.by_unit == "173" and first.by_name == "người dùng 173"
    assert first.decided_at == NOW and second.unit_id == "05911"
    assert (returned.action, returned.unit_id, returned.reason) == ("return", "05917", why)

    service.stored()
    units = by_unit(service.listing("173"))
    assert units["05908"]["state"] == "approved" and units["05908"]["approved_revision"] == 2
    assert units["05908"]["by_name"] == "người dùng 173" and units["05908"]["can"] == ["return"]
    assert (units["05917"]["state"], units["05917"]["reason"]) == ("returned", why)
    assert units["05917"]["can"] == ["approve", "return"]
    province = by_unit(service.listing("19"))
    assert province["05911"]["can"] == ["accept", "return"]


def test_a_report_corrected_since_the_listing_is_looked_at_again(service: Service) -> None:
    service.reported("05908", {"cases_new": 1})
    seen = by_unit(service.listing("173"))["05908"]["revision"]
    service.reported("05908", {"cases_new": 9}, 2)  # corrected while the reviewer looked
    stale = service.decide("173", "approve", ["05908"], revisions={"05908": seen}).json()
    assert stale["recorded"] == [] and service.approvals.sent == []
    ((refused,),) = [stale["refused"]]
    assert refused["code"] == "changed_since_listed" and "lần 2" in refused["message_vi"]
    fresh = service.decide("173", "approve", ["05908"], revisions={"05908": 2}).json()
    assert [r["approval_id"] for r in fresh["recorded"]] == [
        "approve:district-daily:05908:2021-07-27:r2"
    ]
    assert service.approvals.sent[0].values == {"cases_new": 9}


def test_each_unit_is_judged_on_its_own(service: Service) -> None:
    service.reported("05908", {"cases_new": 1})
    service.reported("05431", {"cases_new": 1})  # a commune of 164
    answer = service.decide("173", "approve", ["05908", "XX1", "05911", "05431", "173", "05908"])
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert [r["unit_id"] for r in body["recorded"]] == ["05908"]  # named twice, judged once
    refused = {r["unit_id"]: r["code"] for r in body["refused"]}
    assert refused == {
        "XX1": "unknown_unit",
        "05911": "not_reported",
        "05431": "not_yours_to_review",
        "173": "own_report",
    }
    assert all(r["message_vi"] and r["message_en"] for r in body["refused"])
    assert [e.unit_id for e in service.approvals.sent] == ["05908"]

    # The same approval again is a repeat: recorded, and nothing new is published.
    service.stored()
    again = service.decide("173", "approve", ["05908"]).json()
    assert again["recorded"] == [
        {
            "unit_id": "05908",
            "approval_id": "approve:district-daily:05908:2021-07-27:r1",
            "state": "approved",
        }
    ]
    assert len(service.approvals.sent) == 1


def test_the_province_accepts_what_its_districts_approved_and_districts_directly(
    service: Service,
) -> None:
    service.reported("05908", {"cases_new": 1})
    service.reported("173", {"cases_new": 1})
    early = service.decide("19", "accept", ["05908", "173"]).json()
    assert [r["unit_id"] for r in early["recorded"]] == ["173"]
    assert early["refused"][0]["code"] == "not_approved_yet"
    refused = service.decide("173", "accept", ["05908"]).json()["refused"]
    assert refused[0]["code"] == "province_accepts"
    service.decide("173", "approve", ["05908"])
    service.stored()
    later = service.decide("19", "accept", ["05908"]).json()
    assert later["recorded"][0]["state"] == "accepted"
    service.stored()
    units = by_unit(service.listing("173"))
    assert units["05908"]["state"] == "accepted" and units["05908"]["can"] == []
    late = service.decide("173", "return", ["05908"], reason="sai số").json()
    assert late["refused"][0]["code"] == "already_accepted"


# ---------------------------------------------------------------- refusals of the request


def test_tokens_roles_and_malformed_bodies(service: Service) -> None:
    path = "/api/v1/approvals"
    query = {"dataset": DATASET, "date": DAY.isoformat()}
    assert service.client.get(path, params=query).status_code == 401
    bad = {"Authorization": "Bearer bc_nope_nope"}
    assert service.client.get(path, params=query, headers=bad).status_code == 401
    submit_only = service.client.get(path, params=query, headers=service.token("173", "submit"))
    assert submit_only.status_code == 403
    assert "--role approve" in submit_only.json()["message_en"]
    assert "vai trò duyệt" in submit_only.json()["message_vi"]
    commune = service.client.get(path, params=query, headers=service.token("05908", "approve"))
    assert commune.status_code == 403 and "reviews nobody" in commune.json()["message_en"]

    unknown = service.client.get(
        path, params={**query, "dataset": "weekly"}, headers=service.token("173", "approve")
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_dataset"
    no_date = service.client.get(
        path, params={"dataset": DATASET}, headers=service.token("173", "approve")
    )
    assert no_date.status_code == 422

    auth = service.token("173", "approve")
    assert service.client.post(path, content=b"{not json", headers=auth).status_code == 400
    shape = service.client.post(path, json={"action": "approve", "units": []}, headers=auth)
    assert shape.status_code == 422
    fields = {r["field"] for r in shape.json()["reasons"]}
    assert {"dataset", "date", "units"} <= fields
    assert all(r["code"] == "invalid_field" for r in shape.json()["reasons"])
    no_reason = service.decide("173", "return", ["05908"])
    assert no_reason.status_code == 422
    assert no_reason.json()["reasons"][0]["code"] == "reason_required"
    assert service.approvals.sent == []


def test_nothing_is_recorded_when_the_broker_or_the_warehouse_is_away(service: Service) -> None:
    service.reported("05908", {"cases_new": 1})
    service.approvals.down = True
    answer = service.decide("173", "accept", ["173"])  # refused anyway: answered 202
    assert answer.status_code == 202
    down = service.decide("173", "approve", ["05908"])
    assert down.status_code == 503 and down.json()["error"] == "broker_unavailable"
    assert down.json()["message_vi"].startswith("Máy chủ Kafka chưa xác nhận")
    assert service.app.state.desk.decisions.accepted(f"05908|{DATASET}|{DAY}") is None
    service.approvals.down = False
    service.wh.close()
    gone = service.decide("173", "approve", ["05908"])
    assert gone.status_code == 503 and gone.json()["error"] == "warehouse_unavailable"
    listing = service.client.get(
        "/api/v1/approvals",
        params={"dataset": DATASET, "date": DAY.isoformat()},
        headers=service.token("173", "approve"),
    )
    assert listing.status_code == 503 and listing.headers["Retry-After"]
    assert service.approvals.sent == []


# ---------------------------------------------------------------- corrections after review


def correction(unit: str, **more: Any) -> dict[str, Any]:
    return {
        "dataset": DATASET,
        "unit_id": unit,
        "report_date": DAY.isoformat(),
        "values": {"cases_new": 9, "tests_pcr": 20, "tests_pcr_positive": 9},
        **more,
    }


def post(service: Service, unit: str, body: dict[str, Any]) -> Any:
    return service.client.post("/api/v1/reports", json=body, headers=service.token(unit, "submit"))


def test_a_correction_after_acceptance_needs_a_province_token(service: Service) -> None:
    service.reported("05908", {"cases_new": 1})
    service.reported("05911", {"cases_new": 1})
    service.decide("173", "approve", ["05908", "05911"])
    service.stored()
    accepted = service.decide("19", "accept", ["05908"])  # the desk knows before the sink
    assert accepted.json()["recorded"][0]["state"] == "accepted", accepted.text

    for who in ("05908", "173"):
        refused = post(service, who, correction("05908"))
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["reasons"][0]["code"] == "accepted_by_province"
        assert "Tỉnh Thái Nguyên" in body["message_vi"] and "province token" in body["message_en"]
        assert "người dùng 19" in body["message_en"]  # who accepted it
    # After a mere approval the commune corrects as usual: it reopens the review.
    assert post(service, "05911", correction("05911")).status_code == 201
    # The province corrects what it accepted.
    assert post(service, "19", correction("05908")).status_code == 201
    # A first report is no correction: an accepted unit-day of another day is not in the way.
    assert post(service, "05908", correction("05908", report_date="2021-07-26")).status_code == 201


def test_the_guard_knows_acceptances_from_the_sink_and_after_a_restart(
    service: Service,
) -> None:
    service.reported("05908", {"cases_new": 1})
    service.reported("05911", {"cases_new": 1})
    # Decisions made elsewhere (another service, `baocao approve` on another host): the
    # desk learns them from the sink's batch.
    elsewhere = CapturedApprovals()
    for unit in ("05908", "05911"):
        for action, minutes in (("approve", 1), ("accept", 2)):
            elsewhere.sent.append(
                ApprovalRecorded(
                    approval_id=ApprovalRecorded.id_of(action, DATASET, unit, DAY, 1),
                    action=action,  # type: ignore[arg-type]
                    dataset=DATASET,
                    unit_id=unit,
                    report_date=DAY,
                    revision=1,
                    values={"cases_new": 1},
                    by_name="Sở Y tế",
                    by_unit="19",
                    decided_at=NOW - timedelta(minutes=60 - minutes),
                )
            )
    # 05911 was then returned: the newest decision stands, not a redelivered older one.
    elsewhere.sent.append(
        ApprovalRecorded(
            approval_id=ApprovalRecorded.id_of("return", DATASET, "05911", DAY, 1),
            action="return",
            dataset=DATASET,
            unit_id="05911",
            report_date=DAY,
            revision=1,
            values={"cases_new": 1},
            by_name="Sở Y tế",
            by_unit="19",
            reason="thiếu số xét nghiệm",
            decided_at=NOW - timedelta(minutes=30),
        )
    )
    elsewhere.sent.append(elsewhere.sent[1])  # the accept of 05908, redelivered
    service.approvals.sent = elsewhere.sent
    service.stored()
    assert post(service, "05908", correction("05908")).status_code == 403
    assert post(service, "05911", correction("05911")).status_code == 201

    # A restarted service loads the kept days' decisions from the warehouse.
    again = start(service.tmp, service.wh, service.store, CapturedApprovals())
    with TestClient(again) as client:
        refused = client.post(
            "/api/v1/reports", json=correction("05908"), headers=service.token("05908", "submit")
        )
        assert refused.status_code == 403
        assert refused.json()["reasons"][0]["code"] == "accepted_by_province"


def test_the_feed_passes_a_sink_batch_s_approvals_to_the_desk(service: Service) -> None:
    desk = service.app.state.desk
    key = f"05908|{DATASET}|{DAY}"
    assert desk.decisions.accepted(key) is None
    batch = Batch(topics.APPROVALS, 0, 0)
    block = batch.rows["approvals"] = ColumnBlock(len(APPROVALS.column_names))
    event = ApprovalRecorded(
        approval_id=ApprovalRecorded.id_of("accept", DATASET, "05908", DAY, 1),
        action="accept",
        dataset=DATASET,
        unit_id="05908",
        report_date=DAY,
        revision=1,
        values={},
        by_name="Sở Y tế",
        by_unit="19",
        decided_at=NOW,
    )
    block.add([approval_row(event)])
    DecisionFeed(desk)(batch)
    held = desk.decisions.accepted(key)
    assert held is not None and held.by_name == "Sở Y tế" and held.report_date == date(2021, 7, 27)


# ---------------------------------------------------------------- the document


def test_the_approval_routes_keep_to_their_openapi_document(
    service: Service, schemathesis_bin: Path, tmp_path: Path
) -> None:
    """test_openapi.py fuzzes every route with a submit token (the approval routes answer
    it 403); here with a reviewer's token, on a warehouse with reports to review."""
    service.reported("05908", {"cases_new": 1})
    service.reported("173", {"cases_new": 1})
    service.token("173", "submit", "approve")
    token = service.tokens["173:submit,approve"]
    # rate limits off: hundreds of requests a second
    app = start(
        service.tmp, service.wh, service.store, CapturedApprovals(), rate_limit_per_minute=0
    )
    with serving(app) as url:
        done = run_schemathesis(schemathesis_bin, url, token, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "POST /api/v1/approvals" not in done.stdout, done.stdout[-3000:]
