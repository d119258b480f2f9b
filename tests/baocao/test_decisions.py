"""Reading a decision off reports.accepted / reports.rejected for `submit --wait`."""

from __future__ import annotations

import json

from baocao.decisions import Decision, parse
from contract import topics

WARNING = {"rule_id": "w1", "severity": "warning", "message_vi": "cảnh báo", "message_en": "warn"}
ERROR = {"rule_id": "e1", "severity": "error", "message_vi": "lỗi", "message_en": "error"}


def test_an_acceptance_gives_revision_timeliness_and_warnings() -> None:
    value = json.dumps(
        {"report_id": "r1", "revision": 2, "timeliness": "late", "warnings": [WARNING]}
    ).encode()
    assert parse(topics.ACCEPTED, value) == Decision(
        "r1", True, 2, "late", [("w1", "cảnh báo", "warn")]
    )


def test_a_rejection_gives_every_error() -> None:
    value = json.dumps({"report_id": "r2", "errors": [ERROR, ERROR | {"rule_id": "e2"}]})
    got = parse(topics.REJECTED, value.encode())
    assert got is not None and not got.accepted
    assert [r[0] for r in got.reasons] == ["e1", "e2"]


def test_messages_that_name_no_report_are_skipped() -> None:
    assert parse(topics.REJECTED, b"not json") is None
    assert parse(topics.ACCEPTED, b"[1, 2]") is None  # JSON, but not an object
    assert parse(topics.REJECTED, json.dumps({"errors": [ERROR]}).encode()) is None  # raw junk
