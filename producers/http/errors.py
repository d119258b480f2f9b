"""The API's one error type: an HTTP status with a bilingual summary and every reason."""

from __future__ import annotations

from contract.errors import BaocaoError, Problem
from producers.http.models import ErrorBody, Reason

__all__ = ["ApiError", "ErrorBody", "Reason"]


class ApiError(BaocaoError):
    """A request refused with a 4xx status, in Vietnamese and English."""

    def __init__(
        self, status: int, error: str, vi: str, en: str, reasons: list[Reason] | None = None
    ) -> None:
        super().__init__(en)
        self.status = status
        self.body = ErrorBody(error=error, message_vi=vi, message_en=en, reasons=reasons or [])


def reasons(problems: list[Problem]) -> list[Reason]:
    return [Reason(**p.as_dict()) for p in problems]


def unauthorized(vi: str, en: str) -> ApiError:
    return ApiError(401, "unauthorized", vi, en)


def forbidden(vi: str, en: str, found: list[Reason] | None = None) -> ApiError:
    return ApiError(403, "forbidden", vi, en, found)


def invalid(found: list[Reason]) -> ApiError:
    return ApiError(
        422,
        "validation_failed",
        "Báo cáo chưa hợp lệ; xem lý do ở từng trường.",
        "The report is not valid; see the reason for each field.",
        found,
    )


def malformed(vi: str, en: str) -> ApiError:
    return ApiError(
        400, "malformed_request", vi, en, [Reason(code="malformed", message_vi=vi, message_en=en)]
    )


def too_large(size: int, limit: int) -> ApiError:
    vi = f"Yêu cầu quá lớn ({size} byte, tối đa {limit})."
    en = f"Request too large ({size} bytes, at most {limit})."
    return ApiError(
        413,
        "payload_too_large",
        vi,
        en,
        [Reason(code="payload_too_large", message_vi=vi, message_en=en)],
    )


def not_found(vi: str, en: str) -> ApiError:
    return ApiError(404, "not_found", vi, en)
