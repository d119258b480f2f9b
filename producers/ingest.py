"""Build submissions from what a person typed or uploaded, and check them before sending.

``submitted_at`` is stamped here from the server clock: a submitter cannot choose it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import SubmissionError
from contract.events import ReportSubmitted, Violation
from contract.reasons import Reason
from contract.registry import Registry
from contract.validation import Verdict, check_submission, shape_violations


def _reasons(violations: list[Violation], prefix: str = "") -> list[Reason]:
    return [v.at(prefix) for v in violations]


def build_report(fields: Mapping[str, Any], clock: Clock, submitted_by: str) -> ReportSubmitted:
    """Make a ReportSubmitted from user-supplied fields, stamping time and a report_id."""
    data = dict(fields)
    if "submitted_at" in data:
        raise SubmissionError(
            [
                Reason.of(
                    "submitted_at_not_allowed",
                    "submitted_at",
                    "Thời điểm gửi do hệ thống ghi nhận; hãy bỏ trường submitted_at.",
                    "submitted_at is stamped by baocao on receipt; remove it from the report.",
                )
            ]
        )
    if data.get("submitted_by", submitted_by) != submitted_by:
        raise SubmissionError(
            [
                Reason.of(
                    "submitted_by_mismatch",
                    "submitted_by",
                    f"Người gửi được ghi theo tài khoản đăng nhập ({submitted_by}); "
                    "hãy bỏ submitted_by.",
                    f"The submitter is recorded from your login ({submitted_by}); "
                    "remove submitted_by.",
                )
            ]
        )
    data.setdefault("schema", "baocao.report/v1")
    if data.get("report_id") is None:  # absent or null: the API document allows both
        data["report_id"] = str(uuid.uuid4())
    data["submitted_by"] = submitted_by
    data["submitted_at"] = clock.now().isoformat()
    try:
        return ReportSubmitted.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise SubmissionError(_reasons(shape_violations(exc))) from exc
    except (TypeError, ValueError) as exc:  # values json cannot encode
        raise SubmissionError(
            [
                Reason.of(
                    "invalid_report", "", f"Báo cáo không hợp lệ: {exc}", f"Invalid report: {exc}"
                )
            ]
        ) from exc


def parse_json_report(raw: bytes, clock: Clock, submitted_by: str) -> ReportSubmitted:
    """Read one report from a JSON document."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(
            [
                Reason.of(
                    "not_json",
                    "",
                    f"Tệp không phải JSON hợp lệ: {exc}",
                    f"The file is not valid JSON: {exc}",
                )
            ]
        ) from exc
    if not isinstance(obj, dict):
        raise SubmissionError(
            [
                Reason.of(
                    "not_json_object",
                    "",
                    "Báo cáo phải là một đối tượng JSON.",
                    "A report must be a JSON object.",
                )
            ]
        )
    return build_report(obj, clock, submitted_by)


def preflight(
    report: ReportSubmitted,
    registry: Registry,
    catalog: Catalog,
    tz: ZoneInfo,
    check_rules: bool = True,
) -> Verdict:
    """Refuse what the stream would reject, so the submitter hears it at once.

    With ``check_rules=False`` only shape, unit, dataset and metric existence are
    checked (rule violations then reach the stream and become rejection events).
    """
    verdict = check_submission(report, registry, catalog, tz)
    errors = (
        verdict.errors
        if check_rules
        else [e for e in verdict.errors if e.code not in _rule_ids(catalog, report.dataset)]
    )
    if errors:
        raise SubmissionError(_reasons(errors))
    return verdict


def _rule_ids(catalog: Catalog, dataset: str) -> set[str]:
    ds = catalog.get(dataset)
    return {r.id for r in ds.rules} if ds else set()


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise SubmissionError(
            [
                Reason.of(
                    "invalid_date",
                    "report_date",
                    f"Ngày {text!r} không hợp lệ (định dạng YYYY-MM-DD).",
                    f"Date {text!r} is not valid (use YYYY-MM-DD).",
                )
            ]
        ) from exc
