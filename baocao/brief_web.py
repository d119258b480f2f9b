"""The daily briefs on the warehouse service: the archive's pages and the brief service's API.

Pages: ``/briefs`` (every version per area and day), ``/briefs/{area}/{date}`` (the
newest version's printable HTML) and ``/briefs/{area}/{date}/v{N}.{pdf|docx|html}``
(an archived file). Nothing from a path reaches the file system unchecked: the area
and the file name must match ``archive.AREA`` and ``archive.FILE`` and the date must
parse, so ``..`` or a slash never gets through. The ``/api/briefs`` routes let the brief
service (another process: chDB has one owner) ask this one to make versions, and let
``baocao brief`` have a document rendered while the stack runs.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta
from typing import Literal, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from baocao.access import reader_of
from baocao.context import Context
from baocao.viewer import ICON_LINK
from sinks.brief.archive import NATIONAL, Archive, Version
from sinks.brief.maker import BriefMaker, NoBrief, document
from sinks.brief.render import FORMATS, MEDIA_TYPES, Format
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

FIRST, LAST = date(2000, 1, 1), date(2299, 12, 31)
#: Days of briefs one page of the list shows; a link leads to the days before them.
PAGE_DAYS = 31


def _error(status: int, vi: str, en: str) -> JSONResponse:
    return JSONResponse({"error": f"{vi} / {en}", "message_vi": vi, "message_en": en}, status)


def _forbidden() -> JSONResponse:
    return _error(
        403, "Mã này không được xem báo cáo nhanh này.", "This token may not read this brief."
    )


def _not_found() -> JSONResponse:
    return _error(404, "Không có báo cáo nhanh này.", "No such brief.")


def _unavailable() -> JSONResponse:
    return _error(503, "Kho dữ liệu tạm thời không trả lời.", "The warehouse is unavailable.")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def add_brief_routes(app: FastAPI, ctx: Context, wh: Warehouse) -> BriefMaker:
    """Register the brief routes on the warehouse service's app; return its maker."""
    settings = ctx.settings
    archive = Archive(settings.brief_dir, wh)
    maker = BriefMaker(wh, ctx.registry, ctx.catalog, archive, settings.tz, ctx.clock)

    def name_of(area: str) -> str:
        unit = ctx.registry.get(area)
        return "Toàn quốc / Nationwide" if area == NATIONAL else (unit.name if unit else area)

    def outside(request: Request, area: str | None) -> bool:
        """A province's brief is for its readers; a district reader's units are fewer
        than any brief covers (access.py)."""
        scope = reader_of(request).scope
        return scope is not None and (scope.district is not None or area != scope.province)

    @app.get("/briefs", include_in_schema=False)
    def brief_list(request: Request) -> Response:
        q = request.query_params
        scope = reader_of(request).scope
        area = scope.province if scope is not None else q.get("province") or None
        if outside(request, area):
            return _forbidden()
        try:
            last = _day(q.get("to")) or archive.newest_day() or LAST
            first = _day(q.get("from")) or max(FIRST, last - timedelta(days=PAGE_DAYS - 1))
            found = archive.versions(first, last, area)
        except WarehouseUnavailable:
            return _unavailable()
        older = (
            ""
            if first <= FIRST
            else f"/briefs?{urlencode({'to': first - timedelta(days=1), 'province': area or ''})}"
        )
        return HTMLResponse(_list_page(found, name_of, settings.tz, older))

    @app.get("/briefs/{area}/{day}", include_in_schema=False)
    def brief_latest(request: Request, area: str, day: str) -> Response:
        if outside(request, area):
            return _forbidden()
        when = _day(day)
        if when is None:
            return _not_found()
        try:
            newest = archive.latest([when]).get((area, when))
        except WarehouseUnavailable:
            return _unavailable()
        return (
            _not_found()
            if newest is None
            else brief_file(request, area, day, f"v{newest.version}.html")
        )

    @app.get("/briefs/{area}/{day}/{name}", include_in_schema=False)
    def brief_file(request: Request, area: str, day: str, name: str) -> Response:
        if outside(request, area):
            return _forbidden()
        when = _day(day)
        path = archive.file(area, when, name) if when is not None else None
        if path is None:
            return _not_found()
        fmt = cast(Format, name.rsplit(".", 1)[1])
        disposition = "inline" if fmt == "html" else "attachment"
        download = f"bao-cao-nhanh-{area}-{day}-{name}"  # every part matched a pattern above
        return Response(
            path.read_bytes(),
            media_type=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'{disposition}; filename="{download}"'},
        )

    @app.get("/api/briefs", include_in_schema=False)
    def brief_versions(request: Request) -> Response:
        q = request.query_params
        first, last = _day(q.get("from")) or FIRST, _day(q.get("to")) or LAST
        try:
            found = archive.versions(first, last, q.get("area") or None)
        except WarehouseUnavailable:
            return _unavailable()
        return JSONResponse([v.to_json() for v in found])

    @app.get("/api/briefs/pending", include_in_schema=False)
    def brief_pending(request: Request) -> Response:
        days = [_day(d) for d in request.query_params.getlist("day")]
        if None in days:
            return _error(400, "Ngày không hợp lệ (YYYY-MM-DD).", "Invalid date (YYYY-MM-DD).")
        try:
            due = maker.pending([d for d in days if d is not None])
        except WarehouseUnavailable:
            return _unavailable()
        return JSONResponse([d.to_json() for d in due])

    @app.post("/api/briefs/make", include_in_schema=False)
    def brief_make(area: str = "", day: str = "") -> Response:
        when = _day(day)
        if when is None or area not in maker.areas(when):
            return _error(400, "Khu vực hoặc ngày không hợp lệ.", "Invalid area or date.")
        try:
            made = maker.make(area, when)
        except WarehouseUnavailable:
            return _unavailable()
        return JSONResponse({"version": made.to_json() if made else None})

    @app.get("/api/briefs/render", include_in_schema=False)
    def brief_render(request: Request) -> Response:
        q = request.query_params
        when, fmt, lang = _day(q.get("date")), q.get("format", "pdf"), q.get("lang", "vi")
        if when is None or fmt not in FORMATS or lang not in ("vi", "en"):
            return _error(400, "Tham số không hợp lệ.", "Invalid parameters.")
        try:
            body = document(
                wh, ctx.registry, ctx.catalog, q.get("province") or None, when, settings.tz,
                ctx.clock.now(), fmt, cast(Literal["vi", "en"], lang),
            )  # fmt: skip
        except NoBrief as exc:
            return _error(404, exc.vi, exc.en)
        except WarehouseUnavailable:
            return _unavailable()
        return Response(body, media_type=MEDIA_TYPES[fmt])

    return maker


def _list_page(
    versions: list[Version], name_of: Callable[[str], str], tz: ZoneInfo, older: str
) -> str:
    """Every version, newest day first; one row per area and day, its versions beside it."""
    rows: dict[tuple[date, str], list[Version]] = {}
    for v in versions:
        rows.setdefault((v.report_date, v.area), []).append(v)
    body = "".join(
        f"<tr><td>{day.strftime('%d/%m/%Y')}</td>"
        f"<td><a href='/briefs/{html.escape(area)}/{day.isoformat()}'>"
        f"{html.escape(name_of(area))}</a></td>"
        f"<td>{''.join(_links(v, tz) for v in found)}</td></tr>"
        for (day, area), found in rows.items()
    )
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Báo cáo nhanh hằng ngày / Daily briefs — baocao</title>{ICON_LINK}"
        "<link rel='stylesheet' href='/static/viewer.css'>"
        "<style>main{padding:1rem}td{vertical-align:top}span.v{display:block;"
        "margin:0 0 .2rem}</style></head><body>"
        "<header><h1>Báo cáo nhanh hằng ngày / Daily briefs</h1>"
        "<a href='/dashboards'>bảng điều khiển / dashboards</a></header><main><table>"
        "<tr><th>Ngày / Date</th><th>Khu vực / Area</th>"
        "<th>Các bản, mới nhất trước / Versions, newest first</th></tr>"
        + (body or "<tr><td colspan='3'>Chưa có báo cáo nhanh nào / No briefs yet</td></tr>")
        + "</table>"
        + (f"<p><a href='{html.escape(older)}'>← cũ hơn / older</a></p>" if older else "")
        + "</main></body></html>"
    )


def _links(v: Version, tz: ZoneInfo) -> str:
    files = " · ".join(f"<a href='{html.escape(v.url(f))}'>{f.upper()}</a>" for f in v.formats)
    made = v.generated_at.astimezone(tz).strftime("%H:%M %d/%m/%Y")
    return (
        f"<span class='v'>bản {v.version} / v{v.version}, {made}, "
        f"{v.units_reported}/{v.units_expected} báo cáo / reports: {files}</span>"
    )
