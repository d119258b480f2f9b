"""POST /api/v1/sms: reports by text message, from an SMS gateway or a chat bot.

A gateway posts each incoming SMS here, form-encoded (``from``, ``text``, the common
shape) or as JSON (``{"from": …, "text": …}``), with the shared secret
``BAOCAO_SMS_SECRET`` in the ``X-Baocao-Sms-Secret`` header or ``?secret=``. The sender's
number, registered with ``baocao phones add``, names the unit; ``producers/sms.py``
reads the message; the report then takes the JSON report's path (``Desk.submit``), as
a caller made for that number (submitted_by ``sms:+84…``). The answer is the reply to
send back (text/plain, or ``{"reply": …}`` for JSON): ≤ 160 ASCII characters, the
receipt and, when the stream decides within ``BAOCAO_SMS_WAIT_SECONDS``, its decision.
``TT <code>`` asks for a decision later.

Everything the sender should read is a 200 with a reply, refusals too; the 4xx answers
are for the gateway (wrong secret, a body that is not a message). Without a secret the
route answers 404: nobody can post reports under a number's name.

The report_id is derived from the number and the gateway's message ``id`` (or, without
one, the day and the text): a gateway that delivers the same SMS twice, or a person who
sends the same message again, gets the first receipt, never a second report.

No ``from __future__ import annotations``: FastAPI reads the route's annotations.
"""

import asyncio
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from contract.reasons import Reason
from contract.settings import Settings
from contract.sms_format import SmsFormat, fold
from contract.validation import in_words
from producers.http import errors
from producers.http.auth import Credential
from producers.http.desk import Caller, Desk
from producers.http.handlers import PREFIX
from producers.http.limits import RateLimiter, read_body
from producers.http.models import ErrorBody, ReceiptOut
from producers.http.openapi import ERRORS
from producers.http.phones import PhoneBook, national, normalise, phones_path
from producers.sms import (
    SMS_LENGTH,
    HelpQuery,
    StatusQuery,
    check_examples,
    fit,
    help_reply,
    not_taken_reply,
    parse,
    receipt_reply,
    refused_reply,
)

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Baocao-Sms-Secret"
MAX_TEXT = 1600  # ten concatenated SMS
#: report_ids of SMS reports: uuid5 in this namespace, of the number and the message.
NAMESPACE = uuid.UUID("6f1c2b1e-3d0a-5c3e-9b7a-5a2d8c0e4f11")
POLL_SECONDS = 0.25
FORM = "application/x-www-form-urlencoded"

header_secret = APIKeyHeader(
    name=SECRET_HEADER,
    scheme_name="SmsSecretHeader",
    description="BAOCAO_SMS_SECRET, the SMS gateway's shared secret",
    auto_error=False,
)
query_secret = APIKeyQuery(
    name="secret",
    scheme_name="SmsSecretQuery",
    description="BAOCAO_SMS_SECRET, for gateways that cannot set a header (it is logged "
    "with the URL: prefer the header)",
    auto_error=False,
)

Outcome = Literal[
    "received",
    "queued",
    "accepted",
    "rejected",
    "refused",
    "unregistered",
    "not_found",
    "help",
]


class SmsIn(BaseModel):
    """One incoming text message, as the gateway forwards it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: str = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="the sender's number, in any usual form (0912345678, +84912345678, "
        "84912345678)",
    )
    text: str = Field(max_length=MAX_TEXT, description="the message, e.g. BC 27/7 CM=3 PCR=420")
    id: str | None = Field(
        None,
        max_length=200,
        description="the gateway's message id, if it has one: the same id again is the "
        "same report (a re-delivery), never a second one",
    )


class SmsReplyOut(BaseModel):
    """The reply to send to the sender, and what it is about."""

    reply: str = Field(
        max_length=SMS_LENGTH, description="≤ 160 ASCII characters, Vietnamese without diacritics"
    )
    outcome: Outcome = Field(
        description="received/queued/accepted/rejected: the report's status; refused: the "
        "message was not taken (see reasons); unregistered: unknown number; not_found: a "
        "status question about no report of this unit"
    )
    report_id: str | None = None
    reasons: list[Reason] = Field(default_factory=list)


@dataclass
class Answer:
    reply: str
    outcome: Outcome
    report_id: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    receipt: ReceiptOut | None = None  # a report's receipt, to wait on for a decision


def _documented() -> tuple[dict[int | str, dict[str, Any]], dict[str, Any]]:
    """The route's responses and request body, for the OpenAPI document."""
    said = {
        401: "no or wrong gateway secret / thiếu hoặc sai khoá bí mật của cổng SMS",
        404: "the SMS webhook is off: BAOCAO_SMS_SECRET is not set / chưa bật nhận tin nhắn",
        413: "body too large / quá lớn",
        422: "the body is no message: `from` or `text` missing or too long / thiếu from, text",
        429: "too many messages from this number / quá nhiều tin từ số này",
    }
    responses: dict[int | str, dict[str, Any]] = {
        **ERRORS,
        **{code: {"model": ErrorBody, "description": text} for code, text in said.items()},
        415: {
            "model": ErrorBody,
            "description": f"neither {FORM} nor application/json / sai kiểu nội dung",
        },
        200: {
            "model": SmsReplyOut,
            "description": "the reply to send back, refusals included: text/plain for a "
            "form, JSON for JSON / tin trả lời cho người gửi",
            "content": {
                "text/plain": {
                    "schema": {"type": "string", "maxLength": SMS_LENGTH},
                    "example": 'BC 27/07 DA NHAN (ma 1a2b). Kiem tra: gui "TT 1a2b"',
                }
            },
        },
    }
    schema = SmsIn.model_json_schema(by_alias=True)
    schema["additionalProperties"] = True  # gateways send more fields; they are ignored
    form = json.loads(json.dumps(schema))
    form["properties"]["id"] = {**schema["properties"]["id"]["anyOf"][0], "title": "Id"}
    form["properties"]["id"]["description"] = schema["properties"]["id"]["description"]
    example = {"from": "0912345678", "text": "BC 27/7 CM=3 CD=1 PCR=420 DT=3"}
    body = {
        "requestBody": {
            "required": True,
            "description": "one incoming SMS / một tin nhắn đến (docs/sms.md)",
            "content": {
                FORM: {"schema": form, "example": example},
                "application/json": {"schema": schema, "example": example},
            },
        }
    }
    return responses, body


def install_sms(app: FastAPI, settings: Settings, tokens_file: Path) -> None:
    """Add POST /api/v1/sms; its phone book is ``phones.sqlite`` next to ``tokens_file``."""
    desk: Desk = app.state.desk
    limiter: RateLimiter = app.state.limiter
    secret = settings.sms_secret.get_secret_value().encode()
    inbox: SmsInbox | None = None
    if secret:  # a format file is read, and checked, only where SMS is on
        fmt = SmsFormat.load(desk.catalog, settings.sms_format_path)
        check_examples(fmt, desk.today())
        inbox = SmsInbox(desk, fmt, PhoneBook(phones_path(tokens_file)), limiter)
    limit = settings.max_payload_bytes
    wait_s = settings.sms_wait_seconds
    responses, body = _documented()

    @app.post(
        f"{PREFIX}/sms",
        response_model=None,
        responses=responses,
        openapi_extra=body,
        operation_id="post_sms",
        summary="Nhận báo cáo qua tin nhắn / SMS gateway webhook (off without BAOCAO_SMS_SECRET)",
    )
    async def post_sms(
        request: Request,
        in_header: Annotated[str | None, Depends(header_secret)],
        in_query: Annotated[str | None, Depends(query_secret)],
    ) -> Response:
        """Một tin nhắn đến; trả lời là tin gửi lại / one incoming SMS; answers the reply.

        Off (404) until BAOCAO_SMS_SECRET is set. docs/sms.md: the message format,
        registering numbers, pointing a gateway here.
        """
        if inbox is None:
            raise errors.not_found(
                "Chưa bật nhận báo cáo qua tin nhắn (BAOCAO_SMS_SECRET chưa đặt).",
                "Reports by SMS are off: BAOCAO_SMS_SECRET is not set.",
            )
        given = (in_header or in_query or "").encode()
        if not given or not hmac.compare_digest(given, secret):
            # Not a bearer token: the challenge names the header a gateway must send
            # (RFC 9110 §11.6.1 lets a server name its own scheme).
            raise errors.ApiError(
                401,
                "unauthorized",
                f"Thiếu hoặc sai khoá bí mật ({SECRET_HEADER}).",
                f"The gateway secret ({SECRET_HEADER} or ?secret=) is missing or wrong.",
                headers={"WWW-Authenticate": f'Secret header="{SECRET_HEADER}"'},
            )
        raw = await read_body(request, limit)
        as_json, message = _message(request.headers.get("content-type", ""), raw)
        answer = await run_in_threadpool(inbox.handle, message)
        if answer.receipt is not None and answer.receipt.status == "received" and wait_s > 0:
            answer = await _wait(inbox, answer, wait_s)
        wants_json = as_json or "application/json" in request.headers.get("accept", "")
        if wants_json:
            out = SmsReplyOut(
                reply=answer.reply,
                outcome=answer.outcome,
                report_id=answer.report_id,
                reasons=answer.reasons,
            )
            return Response(out.model_dump_json(), 200, media_type="application/json")
        return Response(answer.reply, 200, media_type="text/plain; charset=utf-8")


async def _wait(inbox: "SmsInbox", answer: Answer, seconds: float) -> Answer:
    """The answer again once the stream decided, or as it was after ``seconds``."""
    assert answer.report_id is not None and answer.receipt is not None
    deadline = time.monotonic() + seconds
    receipt = answer.receipt
    while receipt.status == "received" and time.monotonic() < deadline:
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        receipt = await run_in_threadpool(inbox.receipt, answer.report_id, receipt)
    if receipt is answer.receipt:
        return answer
    return inbox.receipt_answer(receipt)


def _message(content_type: str, raw: bytes) -> tuple[bool, SmsIn]:
    """(whether it came as JSON, the message) from a form or a JSON body."""
    kind = content_type.split(";", 1)[0].strip().lower()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.refused(
            400,
            "malformed_request",
            f"Nội dung không phải UTF-8 (byte {exc.start}).",
            f"The body is not UTF-8 (byte {exc.start}).",
            code="not_utf8",
        ) from exc
    if kind == FORM:
        try:
            pairs = parse_qs(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError as exc:
            raise errors.malformed(
                "Biểu mẫu có ký tự không phải UTF-8.", "The form has text that is not UTF-8."
            ) from exc
        fields: object = {name: values[0] for name, values in pairs.items()}
        as_json = False
    elif kind == "application/json" or kind.endswith("+json"):
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.malformed(
                f"Nội dung không phải JSON hợp lệ: {exc}", f"The body is not valid JSON: {exc}"
            ) from exc
        as_json = True
    else:
        raise errors.ApiError(
            415,
            "unsupported_media_type",
            f"Gửi tin dạng {FORM} hoặc application/json.",
            f"Send the message as {FORM} or application/json.",
        )
    if not isinstance(fields, dict):
        raise errors.malformed(
            "Tin nhắn phải là một đối tượng JSON.", "A message must be a JSON object."
        )
    try:
        return as_json, SmsIn.model_validate(fields)
    except ValidationError as exc:
        found = []
        for e in exc.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"]) or "(body)"
            vi, en = in_words(e)
            found.append(Reason.of("invalid_field", where, f"{where}: {vi}", f"{where}: {en}"))
        raise errors.ApiError(
            422,
            "invalid_message",
            "Yêu cầu không phải một tin nhắn (cần from và text).",
            "The request is not a message (from and text are needed).",
            found,
        ) from exc


class SmsInbox:
    """What the webhook does with one message, free of the web framework (thread pool)."""

    def __init__(self, desk: Desk, fmt: SmsFormat, phones: PhoneBook, limiter: RateLimiter):
        self.desk = desk
        self.fmt = fmt
        self.phones = phones
        self.limiter = limiter

    def handle(self, message: SmsIn) -> Answer:
        number = normalise(message.sender)
        wait = self.limiter.take(f"sms:{number or message.sender}")
        if wait is not None:
            raise errors.too_many_requests(wait, int(self.limiter.capacity))
        phone = self.phones.get(number) if number else None
        if number is None or phone is None:
            who = national(number) if number else message.sender[:20]
            log.info("sms from an unregistered number %s", number or message.sender[:20])
            return Answer(
                fit(
                    f"So {who} chua dang ky gui bao cao. Lien he can bo huyen/tinh de dang ky "
                    "so nay."
                ),
                "unregistered",
            )
        unit = self.desk.registry.get(phone.unit_id)
        if unit is None:
            return Answer(
                fit(
                    f"So nay dang ky cho don vi {phone.unit_id}, don vi khong con trong danh "
                    "muc. Lien he can bo tinh."
                ),
                "refused",
            )
        today = self.desk.today()
        parsed = parse(message.text, self.fmt, today)
        if isinstance(parsed, list):
            log.info(
                "sms from %s (unit %s) not understood: %s",
                number,
                unit.unit_id,
                ", ".join(r.code for r in parsed),
            )
            return Answer(refused_reply(parsed), "refused", reasons=parsed)
        if isinstance(parsed, StatusQuery):
            return self.status(unit.unit_id, parsed)
        if isinstance(parsed, HelpQuery):
            return Answer(help_reply(self.fmt, parsed), "help")
        credential = Credential(
            token_id=f"sms:{number}",
            name=f"sms:{number}",
            unit_id=unit.unit_id,
            created_at=phone.added_at,
        )
        report_id = self.report_id(number, message, today)
        try:
            _, receipt = self.desk.submit(
                Caller(credential, unit), parsed.fields(unit.unit_id, report_id)
            )
        except errors.ApiError as exc:
            found = exc.body.reasons or [
                Reason.of(exc.body.error, "", exc.body.message_vi, exc.body.message_en)
            ]
            codes = ", ".join(r.code for r in found)
            log.info("sms report from %s (unit %s) refused: %s", number, unit.unit_id, codes)
            return Answer(not_taken_reply(parsed, found), "refused", reasons=found)
        self.phones.record(report_id, unit.unit_id, number, self.desk.clock.now())
        log.info("sms report %s from %s for unit %s", report_id, number, unit.unit_id)
        return self.receipt_answer(receipt)

    def status(self, unit_id: str, query: StatusQuery) -> Answer:
        report_id = self.phones.find(unit_id, query.short_id)
        stored = self.desk.status(report_id) if report_id else None
        if stored is None:
            if query.short_id:
                text = f"Khong co bao cao ma {query.short_id} gui bang tin nhan tu don vi nay."
            else:
                text = "Don vi nay chua gui bao cao nao bang tin nhan."
            return Answer(fit(text), "not_found")
        return self.receipt_answer(self.desk.receipt_of(stored))

    def receipt(self, report_id: str, receipt: ReceiptOut) -> ReceiptOut:
        """The receipt with the stream's decision if there is one by now."""
        stored = self.desk.status(report_id)
        if stored is None or stored.decision is None:
            return receipt
        return self.desk.receipt_of(stored)

    def receipt_answer(self, receipt: ReceiptOut) -> Answer:
        return Answer(
            receipt_reply(self.fmt, receipt),
            receipt.status,
            receipt.report_id,
            [*receipt.errors] if receipt.status == "rejected" else [],
            receipt,
        )

    @staticmethod
    def report_id(number: str, message: SmsIn, today: date) -> str:
        """The same SMS delivered again, or sent again the same day, is the same report."""
        if message.id:
            name = f"{number}\nid\n{message.id}"
        else:
            name = f"{number}\n{today.isoformat()}\n{' '.join(fold(message.text).split())}"
        return str(uuid.uuid5(NAMESPACE, name))
