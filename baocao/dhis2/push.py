"""POST a ``dataValueSets`` document to DHIS2's Web API and read its import summary.

``POST {base}/api/dataValueSets?dryRun=true&idScheme=code`` answers with an import
summary::

    {"responseType": "ImportSummary", "status": "SUCCESS",
     "importCount": {"imported": 2, "updated": 0, "ignored": 1, "deleted": 0},
     "conflicts": [{"object": "EXAMPLE_DE_DEATHS", "value": "Data element not found"}]}

From DHIS2 2.38 the summary comes wrapped in a web message, ``{"httpStatus": "OK",
"status": "OK", "response": {…summary…}}``, and a summary with conflicts may come with
HTTP 409: both shapes are read, and the summary's own status decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.errors import BaocaoError

#: Import summary statuses (DHIS2's ImportStatus).
ERROR = "ERROR"
COUNTS = ("imported", "updated", "ignored", "deleted")
COUNT_TEXT = {
    "imported": "nhập mới / imported",
    "updated": "cập nhật / updated",
    "ignored": "bỏ qua / ignored",
    "deleted": "xoá / deleted",
}


@dataclass(frozen=True)
class Conflict:
    object: str
    value: str


@dataclass(frozen=True)
class ImportSummary:
    status: str
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: tuple[Conflict, ...] = ()
    description: str = ""

    @property
    def failed(self) -> bool:
        return self.status.upper() == ERROR


def parse_summary(body: Any) -> ImportSummary:
    """Read an import summary, bare or wrapped in ``{"response": …}``; ValueError if neither."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    inner = body.get("response")
    summary = inner if isinstance(inner, dict) and "importCount" not in body else body
    counts = summary.get("importCount")
    status = summary.get("status") or body.get("status")
    if not isinstance(counts, dict) and not status:
        raise ValueError("no status and no importCount")
    counts = counts if isinstance(counts, dict) else {}
    conflicts = summary.get("conflicts") or []
    description = summary.get("description") or body.get("message") or ""
    return ImportSummary(
        status=str(status or "UNKNOWN"),
        **{name: _int(counts.get(name)) for name in COUNTS},
        conflicts=tuple(
            Conflict(str(c.get("object", "")), str(c.get("value", "")))
            for c in conflicts
            if isinstance(c, dict)
        ),
        description=str(description),
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def endpoint(base: str) -> str:
    """``{base}/api/dataValueSets``; a base already ending in /api is taken as it is."""
    base = base.rstrip("/")
    return f"{base if base.endswith('/api') else base + '/api'}/dataValueSets"


def post(
    base: str,
    user: str,
    password: str,
    document: dict[str, Any],
    *,
    dry_run: bool,
    timeout: float = 60.0,
) -> ImportSummary:
    """Send the document once (DHIS2 only checks it when ``dry_run``); its import summary.

    Raises BaocaoError (both languages) when DHIS2 cannot be reached, refuses the login,
    or answers with something that is not an import summary.
    """
    import httpx

    url = endpoint(base)
    params = {"dryRun": "true" if dry_run else "false", "idScheme": "code"}
    try:
        response = httpx.post(
            url,
            params=params,
            json=document,
            auth=(user, password),
            headers={"Accept": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise BaocaoError(
            f"không kết nối được DHIS2 tại {url} / cannot reach DHIS2 at {url}: {exc}"
        ) from exc
    code = response.status_code
    if code in (401, 403):
        raise BaocaoError(
            f"DHIS2 từ chối đăng nhập của {user} (HTTP {code}) / DHIS2 refused the login of"
            f" {user} (HTTP {code}): kiểm tra --user và mật khẩu / check --user and the password"
        )
    if 300 <= code < 400:
        where = response.headers.get("location", "?")
        raise BaocaoError(
            f"DHIS2 chuyển hướng sang {where} (HTTP {code}): kiểm tra URL / DHIS2 redirected to"
            f" {where} (HTTP {code}): check the URL (the server's base, without /dhis-web-…)"
        )
    try:
        summary = parse_summary(response.json())
    except ValueError as exc:  # not JSON, or JSON of another shape
        snippet = response.text[:300].strip()
        raise BaocaoError(
            f"DHIS2 trả lời HTTP {code}, không phải bản tóm tắt nhập / DHIS2 answered HTTP"
            f" {code}, not an import summary ({exc}): {snippet}"
        ) from exc
    if code >= 400 and code != 409:  # 409: a summary with conflicts (2.38+), read above
        raise BaocaoError(
            f"DHIS2 trả lời lỗi HTTP {code} / DHIS2 answered HTTP {code}: "
            f"{summary.description or response.text[:300]}"
        )
    return summary


def render(summary: ImportSummary, dry_run: bool) -> list[str]:
    """The summary as lines of text, in both languages."""
    what = "DHIS2 chạy thử / dry run" if dry_run else "DHIS2 đã nhập / import"
    counts = ", ".join(f"{COUNT_TEXT[n]} {getattr(summary, n)}" for n in COUNTS)
    lines = [f"{what}: trạng thái / status {summary.status} — {counts}"]
    if summary.description and (summary.failed or summary.conflicts):
        lines.append(f"  {summary.description}")
    for c in summary.conflicts:
        lines.append(f"  xung đột / conflict: {c.object}: {c.value}")
    return lines
