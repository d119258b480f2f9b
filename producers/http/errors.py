"""The API's one error type: an HTTP status with a bilingual summary and every reason."""

from __future__ import annotations

from contract.errors import BaocaoError
from contract.reasons import Reason
from producers.http.models import ErrorBody

__all__ = ["ApiError", "ErrorBody", "Reason"]


class ApiError(BaocaoError):
    """A request refused with a 4xx status, in Vietnamese and English."""

    def __init__(
        self,
        status: int,
        error: str,
        vi: str,
        en: str,
        reasons: list[Reason] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(en)
        self.status = status
        self.body = ErrorBody(error=error, message_vi=vi, message_en=en, reasons=reasons or [])
        self.headers = headers or {}


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


def refused(
    status: int,
    error: str,
    vi: str,
    en: str,
    code: str | None = None,
    field: str = "",
    headers: dict[str, str] | None = None,
) -> ApiError:
    """An error whose one reason repeats its message (``code`` defaults to ``error``)."""
    reason = Reason(code=code or error, field=field, message_vi=vi, message_en=en)
    return ApiError(status, error, vi, en, [reason], headers)


def malformed(vi: str, en: str) -> ApiError:
    return refused(400, "malformed_request", vi, en, code="malformed")


def too_large(size: int, limit: int) -> ApiError:
    vi = f"Yêu cầu quá lớn ({size} byte, tối đa {limit})."
    en = f"Request too large ({size} bytes, at most {limit})."
    return refused(413, "payload_too_large", vi, en)


def not_found(vi: str, en: str) -> ApiError:
    return ApiError(404, "not_found", vi, en)


def too_many_requests(retry_after: float, per_minute: int) -> ApiError:
    wait = max(1, int(retry_after + 0.999))
    vi = f"Quá nhiều yêu cầu (tối đa {per_minute}/phút cho mỗi mã); thử lại sau {wait} giây."
    en = f"Too many requests (at most {per_minute} a minute per token); retry in {wait} s."
    return refused(429, "rate_limited", vi, en, headers={"Retry-After": str(wait)})


def too_many_reports(count: int, limit: int) -> ApiError:
    vi = f"Tệp có {count} báo cáo, tối đa {limit} mỗi lần gửi; hãy chia nhỏ tệp."
    en = f"The file holds {count} reports, at most {limit} per upload; split the file."
    return refused(413, "too_many_reports", vi, en, field="file")


def not_utf8(byte: int) -> ApiError:
    """A body that is not UTF-8 text, said in words (not the codec's message)."""
    vi = f"Nội dung không phải UTF-8 (byte {byte}); hãy gửi JSON mã hoá UTF-8."
    en = f"The body is not UTF-8 (byte {byte}); send JSON encoded as UTF-8."
    return refused(400, "malformed_request", vi, en, code="not_utf8")
