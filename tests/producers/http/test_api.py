"""Every status path of the submission API, as a submitter's software would see it."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from contract.events import Violation
from producers.http.models import Decision, Revision
from tests.support.api_app import NOW, TZ, Api, report


def test_valid_report_is_published_and_receipted_201(api: Api) -> None:
    resp = api.client.post("/api/v1/reports", json=report(), headers=api.auth("173"))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "received"
    assert body["submitted_by"] == "user-173"  # from the token, never the payload
    assert datetime.fromisoformat(body["submitted_at"]) == NOW
    assert [str(r.report_id) for r in api.publisher.sent] == [body["report_id"]]
    got = api.client.get(f"/api/v1/reports/{body['report_id']}", headers=api.auth("173"))
    assert got.status_code == 200 and got.json()["report_id"] == body["report_id"]


def test_resent_report_id_returns_the_original_receipt_200(api: Api) -> None:
    rid = str(uuid.uuid4())
    first = api.client.post("/api/v1/reports", json=report(report_id=rid), headers=api.auth("173"))
    api.clock.advance(timedelta(minutes=5))
    again = api.client.post("/api/v1/reports", json=report(report_id=rid), headers=api.auth("173"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(api.publisher.sent) == 1  # published once


def test_report_id_reused_with_other_values_is_409(api: Api) -> None:
    rid = str(uuid.uuid4())
    api.client.post("/api/v1/reports", json=report(report_id=rid), headers=api.auth("173"))
    other = report(report_id=rid, values={"cases_new": 4})
    resp = api.client.post("/api/v1/reports", json=other, headers=api.auth("173"))
    assert resp.status_code == 409
    assert resp.json()["reasons"][0]["field"] == "report_id"


def test_report_id_known_only_to_the_warehouse_is_checked_too(api: Api) -> None:
    rid = str(uuid.uuid4())
    api.accepted(
        Revision(
            report_id=rid,
            dataset="district-daily",
            unit_id="173",
            report_date=date(2021, 7, 27),
            revision=1,
            timeliness="on_time",
            submitted_at=NOW - timedelta(hours=1),
            submitted_by="cli",
            values={"cases_new": 9},
        )
    )
    same = api.client.post(
        "/api/v1/reports",
        json=report(report_id=rid, values={"cases_new": 9}),
        headers=api.auth("173"),
    )
    assert same.status_code == 200 and same.json()["status"] == "accepted"
    other = api.client.post("/api/v1/reports", json=report(report_id=rid), headers=api.auth("173"))
    assert other.status_code == 409


def test_rule_violation_is_422_with_field_level_reasons(api: Api) -> None:
    bad = report(values={"tests_pcr": 10, "tests_pcr_positive": 11, "cases_new": -1})
    resp = api.client.post("/api/v1/reports", json=bad, headers=api.auth("173"))
    assert resp.status_code == 422
    reasons = resp.json()["reasons"]
    assert any(r["field"] == "values.cases_new" for r in reasons), reasons
    assert all(r["message_vi"] and r["message_en"] for r in reasons)
    assert api.publisher.sent == []
    rules = report(values={"tests_pcr": 10, "tests_pcr_positive": 11})
    resp = api.client.post("/api/v1/reports", json=rules, headers=api.auth("173"))
    assert resp.status_code == 422
    (reason,) = resp.json()["reasons"]
    assert reason["code"] == "pcr_positive_le_tests"
    assert set(reason["fields"]) == {"tests_pcr", "tests_pcr_positive"}


def test_payload_may_not_choose_time_or_submitter(api: Api) -> None:
    for extra in ({"submitted_at": "2021-07-27T08:00:00+07:00"}, {"submitted_by": "someone"}):
        resp = api.client.post("/api/v1/reports", json=report(**extra), headers=api.auth("173"))
        assert resp.status_code == 422, extra
        assert resp.json()["reasons"][0]["field"] in extra


def test_malformed_body_is_400(api: Api) -> None:
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        resp = api.client.post("/api/v1/reports", content=body, headers=api.auth("173"))
        assert resp.status_code == 400, body
        assert resp.json()["reasons"][0]["message_vi"]


def test_oversize_body_is_413(api: Api) -> None:
    big = report(note="x" * 5000)
    resp = api.client.post("/api/v1/reports", json=big, headers=api.auth("173"))
    assert resp.status_code == 413
    assert "4096" in resp.json()["message_en"]


def test_no_token_401_and_bad_or_revoked_token_401(api: Api) -> None:
    assert api.client.post("/api/v1/reports", json=report()).status_code == 401
    bad = {"Authorization": "Bearer bc_nope_nope"}
    resp = api.client.post("/api/v1/reports", json=report(), headers=bad)
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
    assert "Mã truy cập" in resp.json()["message_vi"]


def test_scope_district_communes_checkpoint_province(api: Api) -> None:
    def post(token: str, unit: str, dataset: str) -> int:
        body = report(
            unit_id=unit,
            dataset=dataset,
            values={"people_screened": 5} if dataset == "checkpoint-daily" else {"cases_new": 1},
        )
        return api.client.post("/api/v1/reports", json=body, headers=api.auth(token)).status_code

    assert post("173", "CP-20-01", "checkpoint-daily") == 403  # another province's checkpoint
    assert post("CP-20-01", "173", "district-daily") == 403  # a checkpoint reports only itself
    assert post("05908", "173", "district-daily") == 403  # a commune cannot report its district
    assert post("19", "CP-19-01", "checkpoint-daily") == 201  # the province covers everything
    assert post("19", "CP-20-01", "checkpoint-daily") == 403  # ... in its own province only
    assert post("CP-20-01", "CP-20-01", "checkpoint-daily") == 201
    assert post("173", "173", "district-daily") == 201
    # the district may act for its communes: refused by the registry (no dataset), not by scope
    assert post("173", "05908", "district-daily") == 422
    resp = api.client.post(
        "/api/v1/reports", json=report(unit_id="CP-20-01"), headers=api.auth("173")
    )
    assert "không được gửi" in resp.json()["message_vi"]


def _accepted(api: Api, day: date, rid: str) -> None:
    api.accepted(
        Revision(
            report_id=rid,
            dataset="district-daily",
            unit_id="173",
            report_date=day,
            revision=1,
            timeliness="on_time",
            submitted_at=datetime.combine(day, datetime.min.time(), TZ),
            submitted_by="user-173",
            values={"cases_new": 1},
        )
    )


def test_late_correction_needs_a_reason(api: Api) -> None:
    _accepted(api, date(2021, 7, 26), str(uuid.uuid4()))
    fix = report(report_date="2021-07-26")
    resp = api.client.post("/api/v1/reports", json=fix, headers=api.auth("173"))
    assert resp.status_code == 422 and resp.json()["reasons"][0]["code"] == "reason_required"
    fix["reason"] = "nhập nhầm số ca / typo in cases"
    assert api.client.post("/api/v1/reports", json=fix, headers=api.auth("173")).status_code == 201


def test_old_correction_needs_a_province_token(api: Api) -> None:
    _accepted(api, date(2021, 7, 10), str(uuid.uuid4()))
    fix = report(report_date="2021-07-10", reason="xác minh lại / re-verified")
    resp = api.client.post("/api/v1/reports", json=fix, headers=api.auth("173"))
    assert resp.status_code == 403
    assert resp.json()["reasons"][0]["code"] == "correction_too_old"
    assert api.client.post("/api/v1/reports", json=fix, headers=api.auth("19")).status_code == 201


def test_broker_down_queues_202_then_courier_delivers(api: Api) -> None:
    # The start's recovery ends by starting the courier: let it end first, then stop the
    # courier and deliver by hand below, with no thread racing this test.
    assert api.app.state.redelivery.recovered.wait(10)
    api.app.state.desk.courier.stop()
    api.publisher.down = True
    first = api.client.post("/api/v1/reports", json=report(), headers=api.auth("173"))
    assert first.status_code == 202 and first.json()["status"] == "queued"
    api.publisher.down = False
    # a later report must not overtake the queued one
    second = api.client.post(
        "/api/v1/reports", json=report(report_date="2021-07-26"), headers=api.auth("173")
    )
    assert second.status_code == 202
    assert api.app.state.desk.courier.deliver_once() == 2
    assert api.outbox.count("queued") == 0
    assert [str(r.report_id) for r in api.publisher.sent] == [
        first.json()["report_id"],
        second.json()["report_id"],
    ]
    got = api.client.get(f"/api/v1/reports/{first.json()['report_id']}", headers=api.auth("173"))
    assert got.json()["status"] == "received"


def test_receipt_shows_the_streams_decision(api: Api) -> None:
    rid = api.client.post("/api/v1/reports", json=report(), headers=api.auth("173")).json()[
        "report_id"
    ]
    warn = Violation(rule_id="w", severity="warning", message_vi="cảnh báo", message_en="warn")
    # Not yet told by the sink: the receipt asks the warehouse once, then keeps the answer.
    api.lookup.decided[rid] = Decision(
        status="accepted", revision=2, timeliness="late", warnings=[warn]
    )
    body = api.client.get(f"/api/v1/reports/{rid}", headers=api.auth("173")).json()
    assert (body["status"], body["revision"], body["timeliness"]) == ("accepted", 2, "late")
    assert body["warnings"][0]["message_vi"] == "cảnh báo"
    assert api.client.get(f"/api/v1/reports/{rid}", headers=api.auth("CP-20-01")).status_code == 403
    assert (
        api.client.get(f"/api/v1/reports/{uuid.uuid4()}", headers=api.auth("173")).status_code
        == 404
    )


def test_history_lists_revisions_with_changes_and_day_status(api: Api) -> None:
    day = date(2021, 7, 25)
    for rev, (cases, by, reason) in enumerate([(1, "a", ""), (4, "b", "sai số / wrong")], 1):
        api.lookup.stored.append(
            Revision(
                report_id=str(uuid.uuid4()),
                dataset="district-daily",
                unit_id="173",
                report_date=day,
                revision=rev,
                timeliness="late",
                submitted_at=datetime(2021, 7, 25, 16, rev, tzinfo=TZ),
                submitted_by=by,
                values={"cases_new": cases},
                reason=reason,
            )
        )
    body = api.client.get("/api/v1/units/173/history?days=3", headers=api.auth("173")).json()
    newest = body["revisions"][0]
    assert newest["revision"] == 2 and newest["reason"] == "sai số / wrong"
    assert newest["changes"] == [{"key": "cases_new", "old": 1, "new": 4}]
    status = {d["report_date"]: d["status"] for d in body["days"]}
    assert status == {"2021-07-27": "pending", "2021-07-26": "missing", "2021-07-25": "late"}


def test_datasets_lists_metrics_with_labels_and_deadline(api: Api) -> None:
    body = api.client.get("/api/v1/units/CP-20-01/datasets", headers=api.auth("CP-20-01")).json()
    (ds,) = body["datasets"]
    assert ds["code"] == "checkpoint-daily"
    assert datetime.fromisoformat(ds["deadline_today"]) == datetime(2021, 7, 27, 15, tzinfo=TZ)
    codes = {m["code"]: m for m in ds["metrics"]}
    assert codes["people_screened"]["name_vi"] and codes["people_screened"]["name_en"]
    dist = api.client.get("/api/v1/units/173/datasets", headers=api.auth("173")).json()
    dose = next(m for m in dist["datasets"][0]["metrics"] if m["code"] == "vaccine_dose1")
    assert "vaccine_dose1.age_18_49" in dose["keys"]


def test_csv_batch_all_or_nothing(api: Api) -> None:
    good = (
        "dataset,unit_id,report_date,cases_new,tests_pcr,tests_pcr_positive\n"
        "district-daily,173,2021-07-27,2,100,2\ndistrict-daily,173,2021-07-26,1,50,1\n"
    )
    resp = api.client.post("/api/v1/reports:csv", content=good.encode(), headers=api.auth("173"))
    assert resp.status_code == 201, resp.text
    assert resp.json()["count"] == 2 and len(api.publisher.sent) == 2
    bad = good.replace("2,100,2", "2,100,200") + "district-daily,CP-20-01,2021-07-27,1,1,1\n"
    resp = api.client.post("/api/v1/reports:csv", content=bad.encode(), headers=api.auth("173"))
    assert resp.status_code == 403
    fields = [r["field"] for r in resp.json()["reasons"]]
    assert any(f.startswith("line 2") for f in fields) and any(
        f.startswith("line 4") for f in fields
    )
    assert len(api.publisher.sent) == 2  # nothing more was sent


def test_outbox_survives_a_restart(api: Api, tmp_path: object) -> None:
    from pathlib import Path

    from producers.http.outbox import Outbox

    api.publisher.down = True
    rid = api.client.post("/api/v1/reports", json=report(), headers=api.auth("173")).json()[
        "report_id"
    ]
    again = Outbox(Path(str(tmp_path)) / "outbox.sqlite")  # as a new process would open it
    assert [str(r.report_id) for r in again.queued()] == [rid]


def test_api_docs_page_works_offline(api: Api) -> None:
    """The Swagger page and its assets come from this server, never from a CDN."""
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets and all(a.startswith("/api/v1/") for a in assets), assets
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset
