"""Check a submission against the registry, its dataset and its rules.

Producers run these checks before publishing so submitters see errors at once; the
stream runs them again because the topic, not the producer, is the source of truth.
Every problem becomes a Violation with a rule id and Vietnamese and English messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from contract.datasets import Catalog
from contract.events import ReportSubmitted, Violation
from contract.registry import Registry


@dataclass
class Verdict:
    """What validation found: errors reject a report, warnings only flag it."""

    errors: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def error(rule_id: str, vi: str, en: str, *fields: str) -> Violation:
    return Violation(
        code=rule_id, severity="error", message_vi=vi, message_en=en, fields=list(fields)
    )


# Vietnamese wording for pydantic's error types; anything else gets the generic message.
_VI = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "greater_than_equal": "không được là số âm",
    "less_than_equal": "giá trị quá lớn",
    "date_type": "ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "date_from_datetime_parsing": "ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "date_parsing": "ngày không hợp lệ (định dạng YYYY-MM-DD)",
    "uuid_parsing": "mã báo cáo (report_id) phải là UUID",
    "uuid_type": "mã báo cáo (report_id) phải là UUID",
    "string_pattern_mismatch": "sai định dạng",
    "string_too_long": "quá dài",
    "string_too_short": "không được để trống",
    "literal_error": "giá trị không được hỗ trợ",
    "timezone_aware": "thời điểm phải có múi giờ",
    "too_long": "quá nhiều mục",
}


# The same in English, in our words rather than the validation library's.
_EN = {
    "missing": "a required field is missing",
    "extra_forbidden": "this field is not allowed",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "greater_than_equal": "must not be negative",
    "less_than_equal": "is too large",
    "date_type": "is not a valid date (use YYYY-MM-DD)",
    "date_from_datetime_parsing": "is not a valid date (use YYYY-MM-DD)",
    "date_parsing": "is not a valid date (use YYYY-MM-DD)",
    "uuid_parsing": "the report id (report_id) must be a UUID",
    "uuid_type": "the report id (report_id) must be a UUID",
    "string_pattern_mismatch": "has the wrong format",
    "string_too_long": "is too long",
    "string_too_short": "must not be empty",
    "literal_error": "is not a supported value",
    "timezone_aware": "a time must carry its time zone",
    "too_long": "has too many entries",
}


def in_words(err: Mapping[str, Any]) -> tuple[str, str]:
    """One of pydantic's errors as (Vietnamese, English) words for a person.

    The library's own message is never shown: it names Python types ("UUID input
    should be a string, bytes or UUID object") rather than what to fix.
    """
    kind = err["type"]
    vi = _VI.get(kind, "giá trị không hợp lệ")
    en = _EN.get(kind, "is not a valid value")
    limit = (err.get("ctx") or {}).get("le")
    if kind == "less_than_equal" and limit is not None:
        vi, en = f"{vi} (tối đa {limit})", f"{en} (at most {limit})"
    return vi, en


def shape_violations(exc: ValidationError) -> list[Violation]:
    """Turn pydantic's errors into field-addressed violations in both languages."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(report)"
        vi, en = in_words(err)
        out.append(error("invalid_field", f"{loc}: {vi}", f"{loc}: {en}", loc))
    return out


def decode_submission(
    raw: bytes, max_bytes: int
) -> tuple[ReportSubmitted | None, dict[str, Any] | None, list[Violation]]:
    """Parse wire bytes; return (report, the JSON object if any, shape violations).

    The object comes back only with shape violations (the rejection keeps it): a valid
    report is parsed once, into the model, and a caller that rejects it later on other
    grounds parses the bytes again (rare, and off the hot path).
    """
    if len(raw) > max_bytes:
        return (
            None,
            None,
            [
                error(
                    "payload_too_large",
                    f"Báo cáo quá lớn ({len(raw)} byte, tối đa {max_bytes}).",
                    f"Report too large ({len(raw)} bytes, at most {max_bytes}).",
                )
            ],
        )
    try:
        # One parse on the hot path: a valid report is read straight into the model.
        report = ReportSubmitted.model_validate_json(raw)
    except ValidationError as exc:
        shape = exc
    else:
        return report, None, []
    # Rejected: parse again to say why, and to keep what the message did carry.
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return (
            None,
            None,
            [error("not_json", f"Không phải JSON hợp lệ: {exc}", f"Not valid JSON: {exc}")],
        )
    if not isinstance(obj, dict):
        return (
            None,
            None,
            [
                error(
                    "not_json_object",
                    "Báo cáo phải là một đối tượng JSON.",
                    "A report must be a JSON object.",
                )
            ],
        )
    return None, obj, shape_violations(shape)


def check_submission(
    report: ReportSubmitted, registry: Registry, catalog: Catalog, tz: ZoneInfo
) -> Verdict:
    """Check unit, dataset, metric keys, limits and dates, then the dataset's rules."""
    verdict = Verdict()
    errors = verdict.errors
    unit = registry.get(report.unit_id)
    dataset = catalog.get(report.dataset)
    if unit is None:
        errors.append(
            error(
                "unknown_unit",
                f"Đơn vị {report.unit_id} không có trong danh mục.",
                f"Unit {report.unit_id} is not in the registry.",
                "unit_id",
            )
        )
    if dataset is None:
        known = ", ".join(d.code for d in catalog.datasets)
        errors.append(
            error(
                "unknown_dataset",
                f"Biểu mẫu {report.dataset} không tồn tại (có: {known}).",
                f"Dataset {report.dataset} does not exist (known: {known}).",
                "dataset",
            )
        )
    local_day = report.submitted_at.astimezone(tz).date()
    if report.report_date > local_day:
        errors.append(
            error(
                "future_date",
                f"Ngày báo cáo {report.report_date} ở tương lai (hôm nay {local_day}).",
                f"Report date {report.report_date} is in the future (today is {local_day}).",
                "report_date",
            )
        )
    if unit is not None and not unit.is_active(report.report_date):
        errors.append(
            error(
                "unit_inactive",
                f"Đơn vị {unit.name} không hoạt động vào ngày {report.report_date}.",
                f"Unit {unit.unit_id} ({unit.name_ascii or unit.name}) is not "
                f"active on {report.report_date}.",
                "unit_id",
            )
        )
    if unit is not None and dataset is not None and dataset.code not in unit.datasets:
        errors.append(
            error(
                "dataset_not_assigned",
                f"Đơn vị {unit.name} không có nhiệm vụ báo cáo {dataset.code}.",
                f"Unit {unit.unit_id} does not report {dataset.code}.",
                "dataset",
            )
        )
    if not report.values:
        errors.append(
            error(
                "empty_report",
                "Báo cáo chưa có số liệu nào.",
                "The report has no values.",
                "values",
            )
        )
    if dataset is None:
        return verdict
    allowed = catalog.allowed_keys(dataset)
    for key, value in report.values.items():
        if key in allowed and value <= dataset.max_value:
            continue  # the common case, one set lookup; the rest says what is wrong
        problem = catalog.key_problem(dataset, key)
        metric = dataset.metric(key.partition(".")[0])
        if problem is None and metric is not None and "." not in key and catalog.options(metric):
            problem = "disaggregated"
        if problem == "disaggregated":
            errors.append(
                error(
                    "total_not_allowed",
                    f"{key}: báo cáo theo nhóm tuổi ({key}.age_…); tổng được tự tính.",
                    f"{key}: report by age band ({key}.age_…); the total is derived.",
                    f"values.{key}",
                )
            )
        elif problem is not None:
            errors.append(
                error(
                    "unknown_metric",
                    f"{key}: chỉ tiêu không có trong biểu mẫu.",
                    f"{key}: {problem} in dataset {dataset.code}.",
                    f"values.{key}",
                )
            )
        elif value > dataset.max_value:
            errors.append(
                error(
                    "value_too_large",
                    f"{key} = {value} vượt quá giới hạn hợp lý {dataset.max_value}.",
                    f"{key} = {value} exceeds the plausible maximum {dataset.max_value}.",
                    f"values.{key}",
                )
            )
    if errors:
        return verdict
    for violation in dataset.check_rules(report.values):
        (errors if violation.severity == "error" else verdict.warnings).append(violation)
    return verdict
