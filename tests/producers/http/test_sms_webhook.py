"""POST /api/v1/sms through the API test app: real tokens, phone book and outbox, a fake broker."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from contract.errors import ConfigError
from contract.events import Violation
from contract.settings import Settings
from producers.http.models import Decision, Revision
from producers.http.openapi import SHAPE_CODES
from producers.http.phones import PhoneBook
from producers.http.sms_routes import SmsIn, SmsInbox
from tests.producers.http.test_openapi import CONFIG, schemathesis_bin, serving
from tests.support.api_app import NOW, Api, FakeLookup, FakePublisher, build
from tests.support.paths import ROOT

__all__ = ["schemathesis_bin"]  # the fixture: schemathesis's venv, built once

SECRET = "gateway-7f3a9c1e5b"
URL = "/api/v1/sms"
HEADERS = {"X-Baocao-Sms-Secret": SECRET}
DISTRICT = "0912345678"  # Huyện Phú Bình (173)
CHECKPOINT = "+84987654321"  # a checkpoint (CP-20-01)
ASCII_SMS = re.compile(r"^[\x20-\x7e]{1,160}$")
REPORT = "BC 27/7 CM=3 CD=1 PCR=420 DT=3"


def make(tmp: Path, **settings: Any) -> Iterator[Api]:
    options: dict[str, Any] = {
        "max_payload_bytes": 4096,
        "sms_secret": SECRET,
        "sms_wait_seconds": 0,
        **settings,
    }
    publisher = FakePublisher()
    app, clock, lookup, outbox, tokens = build(tmp, publisher, Settings(_env_file=None, **options))  # type: ignore[call-arg]
    book = PhoneBook(tmp / "phones.sqlite")  # next to tokens.sqlite, as the service keeps it
    book.add("+84912345678", "173", "chị Lan", NOW)
    book.add(CHECKPOINT, "CP-20-01", "", NOW)
    book.close()
    with TestClient(app) as client:
        yield Api(client, app, clock, publisher, lookup, outbox, tokens)


@pytest.fixture
def sms(tmp_path: Path) -> Iterator[Api]:
    yield from make(tmp_path)


def send(api: Api, text: str, sender: str = DISTRICT, **more: str) -> Response:
    answer = api.client.post(URL, data={"from": sender, "text": text, **more}, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert ASCII_SMS.match(answer.text), answer.text
    return answer


def code_of(reply: str) -> str:
    found = re.search(r"\(ma ([0-9a-f]{4})", reply)
    assert found, reply
    return found.group(1)


def accept(api: Api, report_id: str, timeliness: str = "on_time") -> None:
    sent = next(r for r in api.publisher.sent if str(r.report_id) == report_id)
    api.accepted(
        Revision(
            report_id=report_id,
            dataset=sent.dataset,
            unit_id=sent.unit_id,
            report_date=sent.report_date,
            revision=1,
            timeliness=timeliness,  # type: ignore[arg-type]
            submitted_at=sent.submitted_at,
            submitted_by=sent.submitted_by,
            values=dict(sent.values),
        )
    )


# ---------------------------------------------------------------- a report, both shapes


def test_a_form_encoded_sms_becomes_a_report(sms: Api) -> None:
    reply = send(sms, REPORT).text
    (sent,) = sms.publisher.sent
    code = str(sent.report_id)[:4]
    assert reply == f'BC 27/07 DA NHAN (ma {code}). Kiem tra: gui "TT {code}"'
    assert (sent.dataset, sent.unit_id, str(sent.report_date)) == (
        "district-daily",
        "173",
        "2021-07-27",
    )
    assert sent.values == {
        "cases_new": 3,
        "cases_community": 1,
        "tests_pcr": 420,
        "tests_pcr_positive": 3,
    }
    assert sent.submitted_by == "sms:+84912345678"
    assert sent.submitted_at == NOW


def test_a_json_sms_gets_a_json_reply(sms: Api) -> None:
    answer = sms.client.post(
        URL, json={"from": "+84912345678", "text": "bc cm3 cđ1"}, headers=HEADERS
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    (sent,) = sms.publisher.sent
    assert body["outcome"] == "received" and body["report_id"] == str(sent.report_id)
    assert body["reply"].startswith("BC 27/07 DA NHAN (ma ") and body["reasons"] == []
    assert sent.values == {"cases_new": 3, "cases_community": 1}


def test_a_form_gateway_may_ask_for_json(sms: Api) -> None:
    answer = sms.client.post(
        URL,
        data={"from": DISTRICT, "text": "BC CM=1"},
        headers={**HEADERS, "Accept": "application/json"},
    )
    assert answer.json()["outcome"] == "received"


def test_the_secret_may_come_in_the_query(sms: Api) -> None:
    answer = sms.client.post(f"{URL}?secret={SECRET}", data={"from": DISTRICT, "text": "BC CM=1"})
    assert answer.status_code == 200 and "DA NHAN" in answer.text


def test_a_checkpoint_phone_reports_its_own_dataset(sms: Api) -> None:
    reply = send(sms, "CK NG=850 XE=310 VD=12", sender="0987 654 321").text
    assert reply.startswith("CK 27/07 DA NHAN")
    (sent,) = sms.publisher.sent
    assert (sent.unit_id, sent.dataset) == ("CP-20-01", "checkpoint-daily")
    # and a district's command from it is refused by the unit's duties, in words
    reply = send(sms, "BC CM=1", sender=CHECKPOINT).text
    assert reply.startswith("BC 27/07 KHONG NHAN: Don vi ")
    assert len(sms.publisher.sent) == 1


# ---------------------------------------------------------------- the same SMS again


def test_the_same_sms_again_is_the_same_report(sms: Api) -> None:
    first = send(sms, REPORT).text
    again = send(sms, "  bc 27/7 cm=3 cd=1 pcr=420 dt=3 ").text  # the same message
    assert again == first and len(sms.publisher.sent) == 1
    send(sms, "BC 27/7 CM=4 CD=1 PCR=420 DT=3")  # other numbers: a correction
    assert len(sms.publisher.sent) == 2


def test_a_gateway_id_makes_a_redelivery_the_same_report(sms: Api) -> None:
    send(sms, "BC CM=1", id="msg-1")
    send(sms, "BC CM=1", id="msg-1")
    assert len(sms.publisher.sent) == 1
    send(sms, "BC CM=1", id="msg-2")  # another SMS with the same words: sent again on purpose
    assert len(sms.publisher.sent) == 2
    reply = send(sms, "BC CM=9", id="msg-1").text  # an id re-used for other words
    assert reply.startswith("BC 27/07 KHONG NHAN:") and len(sms.publisher.sent) == 2


def test_the_report_id_is_derived_from_number_and_message() -> None:
    today = NOW.date()
    rid = SmsInbox.report_id(
        "+84912345678", SmsIn.model_validate({"from": "x", "text": "BC CM=1"}), today
    )
    assert rid == SmsInbox.report_id(
        "+84912345678", SmsIn.model_validate({"from": "y", "text": "bc  cm=1"}), today
    )
    assert rid != SmsInbox.report_id(
        "+84912345678", SmsIn.model_validate({"from": "x", "text": "BC CM=1"}), today + timedelta(1)
    )


# ---------------------------------------------------------------- the decision, now or later


def test_help_answers_the_commands_and_sends_nothing(sms: Api) -> None:
    answer = sms.client.post(URL, json={"from": DISTRICT, "text": "HD"}, headers=HEADERS)
    body = answer.json()
    assert answer.status_code == 200 and body["outcome"] == "help"
    assert body["reply"].startswith("Lenh: BC, CK. VD: BC 27/7")
    assert send(sms, "hd ck").text == "CK [ngay] ma=so: NG XE VD CL TN TND VP"
    assert sms.publisher.sent == []


def test_the_status_command_answers_the_decision(sms: Api) -> None:
    code = code_of(send(sms, REPORT).text)
    assert (
        send(sms, f"TT {code}").text == f'BC 27/07 DA NHAN (ma {code}). Kiem tra: gui "TT {code}"'
    )
    accept(sms, str(sms.publisher.sent[0].report_id))
    assert (
        send(sms, f"tt {code.upper()}").text
        == f"BC 27/07 DA CHAP NHAN, DUNG HAN (ma {code}, lan 1)."
    )
    assert send(sms, "TT").text.startswith(f"BC 27/07 DA CHAP NHAN, DUNG HAN (ma {code}")
    json_answer = sms.client.post(
        URL, json={"from": DISTRICT, "text": f"TT {code}"}, headers=HEADERS
    )
    assert json_answer.json()["outcome"] == "accepted"


def test_the_status_command_is_asked_of_the_warehouse_too(sms: Api) -> None:
    """A decision the sink has not told the desk about yet: desk.status asks the warehouse."""
    code = code_of(send(sms, REPORT).text)
    rid = str(sms.publisher.sent[0].report_id)
    sms.lookup.decided[rid] = Decision(status="accepted", revision=1, timeliness="late")
    assert send(sms, f"TT {code}").text == f"BC 27/07 DA CHAP NHAN, TRE HAN (ma {code}, lan 1)."


def test_a_rejection_is_said_in_sms_keys(sms: Api) -> None:
    code = code_of(send(sms, REPORT).text)
    rid = str(sms.publisher.sent[0].report_id)
    why = Violation(
        code="reason_required",
        severity="error",
        message_vi="Sửa báo cáo sau hạn phải ghi lý do.",
        message_en="A correction after the deadline must give a reason.",
    )
    sms.outbox.mark_decided({rid: Decision(status="rejected", errors=[why])})
    reply = send(sms, f"TT {code}").text
    assert reply == f"BC 27/07 BI TU CHOI (ma {code}): Sua bao cao sau han phai ghi ly do."


def test_another_unit_s_code_is_not_found(sms: Api) -> None:
    code = code_of(send(sms, REPORT).text)
    reply = send(sms, f"TT {code}", sender=CHECKPOINT).text
    assert reply == f"Khong co bao cao ma {code} gui bang tin nhan tu don vi nay."
    assert send(sms, "TT", sender=CHECKPOINT).text == (
        "Don vi nay chua gui bao cao nao bang tin nhan."
    )


def test_the_reply_waits_for_a_quick_decision(tmp_path: Path) -> None:
    for api in make(tmp_path, sms_wait_seconds=5):
        rid = SmsInbox.report_id(
            "+84912345678", SmsIn.model_validate({"from": DISTRICT, "text": REPORT}), NOW.date()
        )
        assert isinstance(api.lookup, FakeLookup)
        # the stream decides as soon as the broker has it (the fake warehouse knows already)
        api.lookup.decided[rid] = Decision(status="accepted", revision=1, timeliness="on_time")
        reply = send(api, REPORT).text
        assert reply == f"BC 27/07 DA CHAP NHAN, DUNG HAN (ma {rid[:4]}, lan 1)."


def test_without_a_decision_the_wait_ends_with_the_receipt(tmp_path: Path) -> None:
    for api in make(tmp_path, sms_wait_seconds=0.3):
        assert "DA NHAN" in send(api, REPORT).text


def test_a_broker_down_queues_the_report(sms: Api) -> None:
    sms.publisher.down = True
    reply = send(sms, REPORT).text
    assert reply.startswith("BC 27/07 DA LUU (ma ") and "se gui khi may chu san sang" in reply


# ---------------------------------------------------------------- what the sender hears


def test_an_unknown_number_is_told_it_is_not_registered(sms: Api) -> None:
    reply = send(sms, REPORT, sender="+84 333 444 555").text
    assert reply == (
        "So 0333444555 chua dang ky gui bao cao. Lien he can bo huyen/tinh de dang ky so nay."
    )
    reply = send(sms, REPORT, sender="VIETTEL").text
    assert reply.startswith("So VIETTEL chua dang ky")
    assert sms.publisher.sent == []


def test_a_removed_number_is_refused(sms: Api, tmp_path: Path) -> None:
    book = PhoneBook(tmp_path / "phones.sqlite")
    assert book.remove("+84912345678")
    book.close()
    assert "chua dang ky" in send(sms, REPORT).text


def test_a_message_not_understood_gets_every_reason(sms: Api) -> None:
    reply = send(sms, "BC 32/7 CN=3 CM=-1").text
    assert reply.startswith("Tin sai: Ngay '32/7' khong dung")
    assert "co phai" in reply and "CM: so am -1" in reply
    body = sms.client.post(URL, json={"from": DISTRICT, "text": "BC CN=3"}, headers=HEADERS).json()
    assert body["outcome"] == "refused" and body["report_id"] is None
    (reason,) = body["reasons"]
    assert reason["code"] == "unknown_key" and reason["field"] == "CN"
    assert reason["message_en"].startswith("BC has no key CN")
    assert sms.publisher.sent == []


def test_a_rule_s_refusal_names_the_sms_keys(sms: Api) -> None:
    reply = send(sms, "BC CM=1 CD=5").text
    assert reply.startswith("BC 27/07 KHONG NHAN: Tong ca cong dong")
    assert reply.endswith("[CD + CL + KR = 5; CM = 1]")
    assert sms.publisher.sent == []


def test_every_reply_is_one_ascii_sms(sms: Api) -> None:
    for text in (
        "",
        "xin chào",
        "BC 27/7 " + " ".join(f"Q{i}={i}" for i in range(60)),
        "BC 28/7 CM=1",
        REPORT,
        "TT 9999",
        "BÁO CÁO NGÀY 27/7: CA MẮC 3",
    ):
        send(sms, text)  # send() checks the reply is 1-160 printable ASCII characters


# ---------------------------------------------------------------- what the gateway hears


def test_no_or_a_wrong_secret_is_401(sms: Api) -> None:
    for headers in ({}, {"X-Baocao-Sms-Secret": "wrong"}, {"X-Baocao-Sms-Secret": ""}):
        answer = sms.client.post(URL, data={"from": DISTRICT, "text": REPORT}, headers=headers)
        assert answer.status_code == 401
        body = answer.json()
        assert body["error"] == "unauthorized" and "khoá bí mật" in body["message_vi"]
        # The challenge names the gateway's header, not a bearer token it has no use for.
        assert answer.headers["www-authenticate"] == 'Secret header="X-Baocao-Sms-Secret"'
    assert (
        sms.client.post(f"{URL}?secret=nope", data={"from": DISTRICT, "text": REPORT}).status_code
        == 401
    )
    assert sms.publisher.sent == []


def test_without_a_secret_the_webhook_is_off(api: Api) -> None:
    answer = api.client.post(URL, data={"from": DISTRICT, "text": REPORT}, headers=HEADERS)
    assert answer.status_code == 404
    body = answer.json()
    assert "BAOCAO_SMS_SECRET" in body["message_en"] and "tin nhắn" in body["message_vi"]


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"data": {"from": DISTRICT}}, 422, "invalid_message"),
        ({"data": {"text": REPORT}}, 422, "invalid_message"),
        ({"data": {"from": "", "text": REPORT}}, 422, "invalid_message"),
        ({"json": {"from": 912345678, "text": REPORT}}, 422, "invalid_message"),
        ({"json": ["from", "text"]}, 400, "malformed_request"),
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "malformed_request",
        ),
        (
            {
                "content": b"from=1&text=\xff",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "malformed_request",
        ),
        (
            {
                "content": b"from=1&text=%ff",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "malformed_request",
        ),
        (
            {"content": b"BC CM=1", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ({"data": {"from": DISTRICT, "text": "x" * 5000}}, 413, "payload_too_large"),
    ],
)
def test_a_body_that_is_no_message_is_the_gateway_s_error(
    sms: Api, kwargs: dict[str, Any], status: int, error: str
) -> None:
    headers = {**HEADERS, **kwargs.pop("headers", {})}
    answer = sms.client.post(URL, headers=headers, **kwargs)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error and body["message_vi"] and body["message_en"]


def test_a_busy_number_is_slowed_down(tmp_path: Path) -> None:
    for api in make(tmp_path, rate_limit_per_minute=2):
        send(api, "BC CM=1")
        send(api, "TT")
        answer = api.client.post(URL, data={"from": DISTRICT, "text": "TT"}, headers=HEADERS)
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
        send(api, "TT", sender=CHECKPOINT)  # another number is not held up


def test_a_bad_format_file_stops_the_service_at_start(tmp_path: Path) -> None:
    path = tmp_path / "sms.toml"
    path.write_text('[[commands]]\nword = "BC"\ndataset = "nope"\n[commands.keys]\nCM = "x"\n')
    settings = Settings(_env_file=None, sms_secret=SECRET, sms_format_path=path)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="no dataset 'nope'"):
        build(tmp_path, FakePublisher(), settings)


def test_a_format_file_of_the_province_s_own(tmp_path: Path) -> None:
    path = tmp_path / "sms.toml"
    path.write_text(
        'status_word = "KQ"\n[[commands]]\nword = "F0"\ndataset = "district-daily"\n'
        '[commands.keys]\nMOI = "cases_new"\n'
    )
    for api in make(tmp_path, sms_format_path=path):
        code = code_of(send(api, "f0 moi 5").text)
        assert f'gui "KQ {code}"' in send(api, f"KQ {code}").text


# ---------------------------------------------------------------- the OpenAPI document


def test_the_route_is_documented(api: Api) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    post = document["paths"][URL]["post"]
    assert post["operationId"] == "post_sms"
    content = post["requestBody"]["content"]
    assert set(content) == {"application/x-www-form-urlencoded", "application/json"}
    for shape in content.values():
        assert shape["schema"]["required"] == ["from", "text"]
    ok = post["responses"]["200"]["content"]
    assert ok["text/plain"]["schema"] == {"type": "string", "maxLength": 160}
    assert ok["application/json"]["schema"]["$ref"].endswith("/SmsReplyOut")
    for code in ("401", "404", "413", "415", "422", "429"):
        ref = post["responses"][code]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody"), code
    assert "BAOCAO_SMS_SECRET" in post["responses"]["404"]["description"]
    assert post["security"] == [{"SmsSecretHeader": []}, {"SmsSecretQuery": []}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["SmsSecretHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Baocao-Sms-Secret",
        "description": schemes["SmsSecretHeader"]["description"],
    }


def test_the_route_switched_on_keeps_to_its_document(
    schemathesis_bin: Path, tmp_path: Path
) -> None:
    """test_openapi.py runs every route without a secret (404 here); this one with it on."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, rate_limit_per_minute=0, sms_secret=SECRET, sms_wait_seconds=0
    )
    app, *_ = build(tmp_path, FakePublisher(), settings)
    book = PhoneBook(tmp_path / "phones.sqlite")
    book.add("+84912345678", "173", "", NOW)  # the document's example number
    book.close()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.support.openapi_checks",
        "BAOCAO_SHAPE_CODES": ",".join(sorted(SHAPE_CODES)),
        "NO_COLOR": "1",
    }
    with serving(app) as url:
        done = subprocess.run(
            [
                str(schemathesis_bin),
                "--config-file",
                str(CONFIG),
                "run",
                f"{url}/api/v1/openapi.json",
                "--include-operation-id",
                "post_sms",
                "--phases",
                "examples,coverage,fuzzing",
                "--header",
                f"X-Baocao-Sms-Secret: {SECRET}",
                "--checks",
                "all",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "generated" in done.stdout
