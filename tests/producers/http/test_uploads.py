"""Uploading .xlsx and CSV files, and the Excel template, as a district office uses them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from producers.http.api import create_api
from producers.http.auth import TokenStore
from producers.http.outbox import Outbox
from producers.spreadsheet import XLSX_MEDIA_TYPE
from tests.support.api_app import NOW, Api, FakeLookup, FakePublisher

XLSX = "/api/v1/templates/district-daily.xlsx"
GOOD = (
    "dataset;unit_id;report_date;cases_new;tests_pcr;tests_pcr_positive\n"
    "district-daily;173;2021-07-27;2;100;2\n"
    "district-daily;173;2021-07-26;1;50;1\n"
)


def fill(raw: bytes, rows: dict[int, dict[str, object]]) -> bytes:
    """Type values into a downloaded template, by row number and column key."""
    book = load_workbook(io.BytesIO(raw))
    sheet = book.worksheets[0]
    keys = {str(c.value).rsplit("[", 1)[1].rstrip("]"): c.column for c in sheet[1]}
    for row, values in rows.items():
        for key, value in values.items():
            sheet.cell(row=row, column=keys[key], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(
    api: Api, raw: bytes, name: str, route: str = "reports:upload", unit: str = "173"
) -> Any:
    return api.client.post(
        f"/api/v1/{route}",
        files={"file": (name, raw, "application/octet-stream")},
        headers=api.auth(unit),
    )


def test_excel_round_trip_download_fill_upload_accepted(api: Api) -> None:
    got = api.client.get(f"{XLSX}?date=2021-07-27&days=2", headers=api.auth("173"))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "baocao-district-daily-173-2021-07-27.xlsx" in got.headers["content-disposition"]
    filled = fill(
        got.content,
        {
            2: {"cases_new": 1, "tests_pcr": 50, "tests_pcr_positive": 1},  # 2021-07-26
            3: {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3, "note": "Phú Bình"},
        },
    )
    resp = upload(api, filled, "bao-cao.xlsx")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["count"] == 2 and {r["status"] for r in body["receipts"]} == {"received"}
    sent = sorted(api.publisher.sent, key=lambda r: r.report_date)
    assert [(r.unit_id, str(r.report_date), r.values["cases_new"]) for r in sent] == [
        ("173", "2021-07-26", 1),
        ("173", "2021-07-27", 3),
    ]
    assert sent[1].note == "Phú Bình" and sent[1].submitted_by == "user-173"


def test_an_untouched_template_sends_nothing(api: Api) -> None:
    raw = api.client.get(XLSX, headers=api.auth("173")).content
    resp = upload(api, raw, "mau.xlsx")
    assert resp.status_code == 422
    (reason,) = resp.json()["reasons"]
    assert reason["code"] == "csv_empty" and "bỏ qua" in reason["message_vi"]
    assert api.publisher.sent == []


def test_a_semicolon_csv_is_accepted_as_the_body(api: Api) -> None:
    headers = {**api.auth("173"), "Content-Type": "text/csv"}
    resp = api.client.post("/api/v1/reports:csv", content=GOOD.encode(), headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["count"] == 2 and len(api.publisher.sent) == 2


def test_a_multipart_csv_upload_is_accepted_on_both_routes(api: Api) -> None:
    # curl -F file=@r.csv http://…/api/v1/reports:csv
    resp = upload(api, GOOD.encode("utf-8-sig"), "r.csv", route="reports:csv")
    assert resp.status_code == 201, resp.text
    assert resp.json()["count"] == 2
    # Today's row again, before the deadline: a correction that needs no reason.
    fixed = GOOD.splitlines()[0] + "\ndistrict-daily;173;2021-07-27;4;100;4\n"
    resp = upload(api, fixed.encode(), "r.csv", route="reports:upload")
    assert resp.status_code == 201, resp.text
    assert [r.values["cases_new"] for r in api.publisher.sent] == [2, 1, 4]


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_sent(api: Api) -> None:
    raw = api.client.get(f"{XLSX}?days=3", headers=api.auth("173")).content
    filled = fill(
        raw,
        {
            2: {"cases_new": 1, "tests_pcr": 10, "tests_pcr_positive": 11},  # a rule broken
            3: {"cases_new": "ba"},  # not a number
            4: {"cases_new": 1},  # fine
        },
    )
    resp = upload(api, filled, "r.xlsx")
    assert resp.status_code == 422, resp.text
    reasons = resp.json()["reasons"]
    by_field = {r["field"]: r for r in reasons}
    bad = by_field["line 3: values.cases_new"]
    assert bad["message_vi"] == "Dòng 3, cột cases_new: phải là số nguyên"
    assert bad["message_en"].startswith("Line 3, column cases_new: ")
    rule = next(r for r in reasons if r["code"] == "pcr_positive_le_tests")
    assert rule["field"].startswith("line 2: ")
    assert rule["message_vi"].startswith("Dòng 2, cột tests_pcr, tests_pcr_positive: ")
    assert rule["message_en"].startswith("Line 2, column tests_pcr, tests_pcr_positive: ")
    assert all(r["message_vi"] != r["message_en"] for r in reasons)
    assert api.publisher.sent == []  # row 4 was fine, and is not sent either
    csv = "dataset,unit_id,report_date,cases_new\ndistrict-daily,173,2021-07-27,-1\n"
    resp = upload(api, csv.encode(), "r.csv")
    (reason,) = resp.json()["reasons"]
    assert reason["message_vi"] == "Dòng 2, cột cases_new: không được là số âm"


def test_a_file_not_in_utf8_is_refused_in_words(api: Api) -> None:
    for raw in (GOOD.encode("utf-16-be"), "note\nPhú Bình\n".encode("cp1258", "replace")):
        resp = upload(api, raw, "r.csv")
        assert resp.status_code == 422, resp.text
        (reason,) = resp.json()["reasons"]
        assert reason["message_vi"].startswith("Tệp không phải UTF-8")
        assert "hãy lưu lại dưới dạng CSV UTF-8" in reason["message_vi"]
        assert reason["message_en"].startswith("The file is not UTF-8")
        assert "save it as 'CSV UTF-8'" in reason["message_en"]
    # Excel's "Unicode text": UTF-16 with a BOM, tab separated, is read.
    resp = upload(api, GOOD.replace(";", "\t").encode("utf-16"), "r.txt")
    assert resp.status_code == 201, resp.text


def test_a_json_report_not_in_utf8_is_refused_in_words(api: Api) -> None:
    # json.loads guesses UTF-16 from NUL bytes, then fails with the codec's own words.
    raw = '{"dataset": "district-daily"}'.encode("utf-16-be") + b"\x00"
    resp = api.client.post("/api/v1/reports", content=raw, headers=api.auth("173"))
    assert resp.status_code == 400
    body = resp.json()
    assert "codec" not in body["message_en"]
    assert body["message_vi"].startswith("Nội dung không phải UTF-8")
    assert body["message_en"].startswith("The body is not UTF-8")


def test_an_upload_without_a_file_field_or_over_the_limit_is_refused(api: Api) -> None:
    resp = api.client.post(
        "/api/v1/reports:upload", files={"other": ("r.csv", b"x")}, headers=api.auth("173")
    )
    assert resp.status_code == 400
    assert "file" in resp.json()["message_en"] and "file" in resp.json()["message_vi"]
    huge = b"x" * (Settings(_env_file=None).max_csv_bytes + 1)  # type: ignore[call-arg]
    resp = upload(api, huge, "big.csv")
    assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"
    assert (
        api.client.post("/api/v1/reports:upload", files={"file": ("r.csv", GOOD)}).status_code
        == 401
    )


def test_a_row_for_another_unit_is_403_for_the_whole_file(api: Api) -> None:
    csv = GOOD + "checkpoint-daily;CP-20-01;2021-07-27;1;;\n"
    resp = upload(api, csv.encode(), "r.csv")
    assert resp.status_code == 403
    assert any(r["message_vi"].startswith("Dòng 4") for r in resp.json()["reasons"])
    assert api.publisher.sent == []


def test_the_template_is_only_for_units_the_token_covers(api: Api) -> None:
    assert api.client.get(XLSX).status_code == 401
    resp = api.client.get(f"{XLSX}?unit_id=172", headers=api.auth("173"))
    assert resp.status_code == 403
    resp = api.client.get("/api/v1/templates/nope.xlsx", headers=api.auth("173"))
    assert resp.status_code == 404 and "nope" in resp.json()["message_vi"]
    resp = api.client.get("/api/v1/templates/checkpoint-daily.xlsx", headers=api.auth("173"))
    assert resp.status_code == 404  # neither 173 nor its communes report at checkpoints
    resp = api.client.get(f"{XLSX}?days=40", headers=api.auth("173"))
    assert resp.status_code == 422
    province = api.client.get(f"{XLSX}?unit_id=19", headers=api.auth("19"))
    assert province.status_code == 200
    units = [r[1].value for r in load_workbook(io.BytesIO(province.content)).worksheets[0]]
    # the province's districts (its communes and checkpoints report no district-daily)
    assert units[1:] == ["164", "165", "167", "168", "169", "170", "171", "172", "173"]


def test_a_district_template_pre_fills_the_communes_that_report(tmp_path: Path) -> None:
    demo = Registry.load()
    communes = {u.unit_id for u in demo.children("173") if u.kind == "commune"}
    units = [
        u.model_copy(update={"datasets": ["district-daily"]}) if u.unit_id in communes else u
        for u in demo
    ]
    store = TokenStore(tmp_path / "tokens.sqlite")
    _, token = store.create("173", "user-173", NOW)
    app = create_api(
        Settings(_env_file=None),  # type: ignore[call-arg]
        Registry(units, demo.hierarchy),
        Catalog.load(),
        ManualClock(NOW),
        FakePublisher(),
        FakeLookup(),
        store,
        Outbox(tmp_path / "outbox.sqlite"),
    )
    with TestClient(app) as client:
        got = client.get(XLSX, headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    sheet = load_workbook(io.BytesIO(got.content)).worksheets[0]
    ids = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert ids[0] == "173" and set(ids[1:]) == communes
    assert {str(row[3].value)[:10] for row in sheet.iter_rows(min_row=2)} == {"2021-07-27"}


def test_the_new_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    upload_op = paths["/api/v1/reports:upload"]["post"]
    form = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"] and form["properties"]["file"]["format"] == "binary"
    for code in ("200", "201", "202"):
        assert upload_op["responses"][code]["content"]["application/json"]["schema"][
            "$ref"
        ].endswith("/BatchReceipt")
    assert "Dòng 3, cột cases_new" in upload_op["responses"]["422"]["description"]
    csv_op = paths["/api/v1/reports:csv"]["post"]
    assert {"text/csv", "multipart/form-data"} <= set(csv_op["requestBody"]["content"])
    template_op = paths["/api/v1/templates/{dataset}.xlsx"]["get"]
    assert XLSX_MEDIA_TYPE in template_op["responses"]["200"]["content"]
    assert {p["name"] for p in template_op["parameters"]} == {"dataset", "unit_id", "date", "days"}
