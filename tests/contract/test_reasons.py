"""One bilingual reason type: a refused submission, an API error and a broken rule share it."""

from __future__ import annotations

import json

from contract.errors import SubmissionError
from contract.events import ReportRejected, Violation
from contract.reasons import Reason
from producers.http.models import ErrorBody

OLD_WIRE = {
    "rule_id": "pcr_positive_le_tests",
    "severity": "error",
    "message_vi": "Số dương tính không được lớn hơn số xét nghiệm.",
    "message_en": "Positives cannot exceed tests.",
    "fields": ["tests_pcr_positive", "tests_pcr"],
}


def test_a_violation_is_a_reason_and_keeps_its_wire_shape() -> None:
    violation = Violation.model_validate(OLD_WIRE)
    assert isinstance(violation, Reason)
    assert (violation.code, violation.field) == ("pcr_positive_le_tests", "tests_pcr_positive")
    # what the topics and the warehouse hold is unchanged: rule_id, no field
    assert json.loads(violation.model_dump_json()) == OLD_WIRE


def test_violations_on_a_rejected_event_round_trip() -> None:
    schema = ReportRejected.model_json_schema(by_alias=True, mode="serialization")
    shape = schema["$defs"]["Violation"]
    assert "rule_id" in shape["properties"] and "field" not in shape["properties"]
    assert "code" not in shape["properties"]


def test_an_api_error_shows_a_violation_as_a_plain_reason() -> None:
    body = ErrorBody(
        error="validation_failed",
        message_vi="Báo cáo chưa hợp lệ.",
        message_en="The report is not valid.",
        reasons=[Violation.model_validate(OLD_WIRE)],
    )
    (reason,) = json.loads(body.model_dump_json())["reasons"]
    assert reason == {
        "code": "pcr_positive_le_tests",
        "field": "tests_pcr_positive",
        "message_vi": OLD_WIRE["message_vi"],
        "message_en": OLD_WIRE["message_en"],
        "fields": ["tests_pcr_positive", "tests_pcr"],
    }


def test_at_puts_where_before_the_field_and_keeps_the_rest() -> None:
    reason = Reason.of("invalid_date", "report_date", "Ngày sai.", "Bad date.")
    moved = reason.at("line 3: ")
    assert moved.field == "line 3: report_date"
    assert (moved.code, moved.message_vi, moved.message_en) == (
        "invalid_date",
        "Ngày sai.",
        "Bad date.",
    )
    assert reason.field == "report_date"  # reasons are values: the original is unchanged


def test_a_refused_submission_carries_reasons_in_both_languages() -> None:
    exc = SubmissionError([Reason.of("csv_empty", "file", "Tệp trống.", "The file is empty.")])
    assert [r.code for r in exc.reasons] == ["csv_empty"]
    assert str(exc) == "file: The file is empty."
