"""The answers of the correction policy and of a re-used report_id, in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta

from contract.events import ReportSubmitted
from contract.reasons import Reason
from contract.registry import UnitKind
from producers.http import errors
from producers.http.errors import ApiError


def refusal(
    report: ReportSubmitted, deadline: datetime, age: timedelta, window: timedelta, kind: UnitKind
) -> ApiError | None:
    """What a correction gets: a reason is due after the deadline, a province token when old.

    ``age``: today minus the report's date; ``kind``: the kind of the caller's unit.
    """
    if report.submitted_at >= deadline and not report.reason.strip():
        return errors.invalid(
            [
                Reason.of(
                    "reason_required",
                    "reason",
                    "Sửa báo cáo sau hạn chót phải nêu lý do (trường reason).",
                    "A correction after the deadline must give a reason (field 'reason').",
                )
            ]
        )
    if age > window and kind != UnitKind.PROVINCE:
        days = window.days
        return errors.forbidden(
            f"Không được sửa báo cáo cũ hơn {days} ngày; cần tài khoản cấp tỉnh.",
            f"A report older than {days} days may only be corrected with a province token.",
            [
                Reason.of(
                    "correction_too_old",
                    "report_date",
                    f"Báo cáo ngày {report.report_date} đã quá {days} ngày.",
                    f"The report of {report.report_date} is more than {days} days old.",
                )
            ],
        )
    return None


def conflict(report_id: str) -> ApiError:
    """409: a report_id already used for other content."""
    return ApiError(
        409,
        "report_id_conflict",
        f"Mã báo cáo {report_id} đã được dùng cho nội dung khác; hãy dùng mã mới.",
        f"report_id {report_id} was already used for different content; use a new one.",
        [
            Reason(
                code="report_id_conflict",
                field="report_id",
                message_vi="Mã báo cáo đã được dùng cho nội dung khác.",
                message_en="This report_id was already used for different content.",
            )
        ],
    )


def after_acceptance(report: ReportSubmitted, unit: str, by_name: str, province: str) -> ApiError:
    """403: a correction of a report the province accepted, without a province token.

    403 rather than 409: the report's state does not forbid the correction, the token
    does (a province token may make it, or the province returns the report first).
    """
    day = report.report_date
    return errors.forbidden(
        f"Báo cáo ngày {day} của {unit} đã được tỉnh chấp nhận ({by_name}); chỉ tài khoản "
        f"cấp tỉnh ({province}) được sửa, hoặc đề nghị tỉnh trả lại báo cáo để sửa.",
        f"The report of {day} for {report.unit_id} was accepted by the province ({by_name}); "
        f"only a province token ({province}) may correct it, or ask the province to return "
        "it for correction.",
        [
            Reason.of(
                "accepted_by_province",
                "report_date",
                f"Báo cáo ngày {day} đã được tỉnh chấp nhận.",
                f"The report of {day} was accepted by the province.",
            )
        ],
    )
