"""The built-in dashboard viewer: HTML pages, panel data as JSON, and the chart library.

The warehouse service delegates every ``/dashboards`` and ``/static`` request here.
Nothing from a request reaches SQL as text: variables are validated and bound as
parameters by ``dashboards.macros``.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from contract.clock import Clock, SystemClock
from contract.errors import BaocaoError
from dashboards.catalog import DASHBOARDS, by_uid
from dashboards.common import TZ
from dashboards.errors import VariableError
from dashboards.figures import with_figures
from dashboards.labels import LABELS, STATUS_MARKS
from dashboards.macros import TimeRange, check_variables
from dashboards.model import Dashboard, Panel
from dashboards.query import run_dashboard, variable_choices
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

log = logging.getLogger(__name__)
Response = tuple[int, str, bytes]
HTML, JSON, JS, CSS, SVG = (
    "text/html; charset=utf-8",
    "application/json",
    "text/javascript; charset=utf-8",
    "text/css; charset=utf-8",
    "image/svg+xml",
)
DEFAULT_DAYS = 14
#: Ends the reader's session (baocao/signin.py); a plain form: no script, and SameSite=Strict
#: keeps other sites from posting it.
SIGN_OUT = (
    "<form class='signout' method='post' action='/signout'>"
    "<button type='submit'>Đăng xuất / Sign out</button></form>"
)
REFRESH_SECONDS = 60
#: The site's icon, named by every page; a browser that finds none asks for /favicon.ico,
#: which is answered with the same file (no 404 in the console on any page).
ICON_LINK = "<link rel='icon' type='image/svg+xml' href='/static/favicon.svg'>"
FAVICON = "/favicon.ico"


def _static_files() -> dict[str, tuple[Path, str]]:
    import plotly

    own = Path(str(resources.files("dashboards").joinpath("static")))
    return {
        # plotly's wheel ships its bundle: charts work with no CDN and no internet
        "plotly.min.js": (Path(plotly.__file__).parent / "package_data" / "plotly.min.js", JS),
        "viewer.js": (own / "viewer.js", JS),
        "viewer.css": (own / "viewer.css", CSS),
        "favicon.svg": (own / "favicon.svg", SVG),
    }


def _json(status: int, data: Any) -> Response:
    return status, JSON, json.dumps(data, ensure_ascii=False, default=str).encode()


def _error(status: int, vi: str, en: str) -> Response:
    return _json(status, {"error": f"{vi} / {en}", "message_vi": vi, "message_en": en})


class Bounds(Protocol):
    """The area a reader is held to (``baocao.access.Scope``): a province, or one of its
    districts. Every panel's SQL filters on both variables, bound as parameters, so
    holding the variables holds every row the warehouse returns."""

    @property
    def province(self) -> str: ...

    @property
    def district(self) -> str | None: ...


class OutOfBounds(VariableError):
    """A reader asked for an area outside the one it is held to."""


def _params(
    query: str, dashboard: Dashboard, clock: Clock, bounds: Bounds | None = None
) -> tuple[dict[str, str], TimeRange, str, int]:
    """Read variables, period, language and refresh interval from the query string.

    Without dates, the period is the last ``DEFAULT_DAYS`` up to ``clock``'s today;
    either way it is seen as of ``clock``'s now (``TimeRange.as_of``). With ``bounds``,
    the area defaults to the reader's own and any other is refused (``OutOfBounds``).
    """
    q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    own = {"province": bounds.province, "district": bounds.district or ""} if bounds else {}
    values = {v.name: q.get(v.name, own.get(v.name, v.default)) for v in dashboard.variables}
    if bounds is not None and not (
        values.get("province") == bounds.province
        and bounds.district in (None, values.get("district"))
    ):
        raise OutOfBounds(f"{values.get('province')}/{values.get('district') or '*'}")
    check_variables(values)
    now = clock.now()  # once: today and the instant judged must agree
    today = now.astimezone(ZoneInfo(TZ)).date()
    end = q.get("to") or today.isoformat()
    start = q.get("from") or (datetime.fromisoformat(end) - timedelta(days=DEFAULT_DAYS - 1))
    period = TimeRange.parse(str(start)[:10], end, as_of=now)
    lang = "en" if q.get("lang") == "en" else "vi"
    try:
        refresh = max(2, int(q.get("refresh", REFRESH_SECONDS)))
    except ValueError as exc:
        raise VariableError("refresh phải là số giây / refresh must be seconds") from exc
    return values, period, lang, refresh


def handle(
    target: str, wh: Warehouse, clock: Clock | None = None, bounds: Bounds | None = None
) -> Response | None:
    """Answer a GET for ``target`` (path and query), or None if it is not the viewer's.

    ``clock``: whose today ends the default period (the service's; the system clock).
    ``bounds``: the area a read token holds the reader to (None: every area).
    """
    parts = urlsplit(target)
    path = parts.path.rstrip("/")
    if path == FAVICON:
        path = "/static/favicon.svg"
    if path.startswith("/static/"):
        found = _static_files().get(path.removeprefix("/static/"))
        return (200, found[1], found[0].read_bytes()) if found else None
    if path == "/dashboards":
        return 200, HTML, _index().encode()
    if not path.startswith("/dashboards/"):
        return None
    uid, _, rest = path.removeprefix("/dashboards/").partition("/")
    dashboard = by_uid(uid)
    if dashboard is None or rest not in ("", "data"):
        return _error(404, "không có bảng điều khiển này", "no such dashboard")
    try:
        values, period, lang, refresh = _params(
            parts.query, dashboard, clock or SystemClock(), bounds
        )
        if rest == "data":  # with each chart's Plotly figure, in both languages
            return _json(200, with_figures(dashboard, run_dashboard(wh, dashboard, values, period)))
        options = variable_choices(wh, dashboard, values)
        if bounds is not None:  # offer only what the reader may choose
            options["province"] = _only(options.get("province", []), bounds.province)
            if bounds.district is not None:
                options["district"] = _only(options.get("district", []), bounds.district)
        return 200, HTML, _page(dashboard, values, period, lang, refresh, options).encode()
    except OutOfBounds as exc:
        return _error(403, "mã này không được xem khu vực này", f"not this token's area: {exc}")
    except VariableError as exc:
        return _error(400, "tham số không hợp lệ", str(exc))
    except WarehouseUnavailable as exc:
        log.warning("viewer: warehouse unavailable: %s", exc)
        return _error(503, "kho dữ liệu tạm thời không trả lời", "the warehouse is unavailable")
    except BaocaoError as exc:
        log.exception("viewer: %s failed", dashboard.uid)
        return _error(500, "lỗi truy vấn bảng điều khiển", f"dashboard query failed: {exc}")


def _only(choices: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    """The one choice a reader may make, named as the list names it (else by its code)."""
    return [c for c in choices if c[0] == value] or [(value, value)]


def _head(title: str) -> str:
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>{ICON_LINK}"
        "<link rel='stylesheet' href='/static/viewer.css'></head><body>"
    )


def _index() -> str:
    items = "".join(
        f"<li><a href='/dashboards/{d.uid}'>{html.escape(d.title_vi)}</a>"
        f" — {html.escape(d.title_en)}</li>"
        for d in DASHBOARDS
    )
    items += "<li><a href='/briefs'>Báo cáo nhanh hằng ngày</a> — Daily briefs</li>"
    return (
        _head("baocao — bảng điều khiển / dashboards")
        + "<header><h1>baocao — bảng điều khiển / dashboards</h1><a href='/'>kho / warehouse</a>"
        + SIGN_OUT
        + f"</header><main class='asof'><ul class='list'>{items}</ul></main></body></html>"
    )


def _bi(tag: str, vi: str, en: str, attrs: str = "") -> str:
    """Return an element whose text the page switches between Vietnamese and English."""
    v, e = html.escape(vi, quote=True), html.escape(en, quote=True)
    return f'<{tag} {attrs} data-vi="{v}" data-en="{e}">{v}</{tag}>'


def _legend(p: Panel) -> str:
    """The key under a grid: each cell's mark with its name, readable without colour."""
    if p.kind != "grid":
        return ""
    if p.bands is None:
        keys = [
            (f"st-{status}", "", mark, *LABELS[status]) for status, mark in STATUS_MARKS.items()
        ]
    else:  # as the grid's cells show a band: its value, "–" when it has none
        missing = p.bands.missing
        keys = [
            (
                "band",
                f" style='background:{html.escape(b.colour)}'",
                "–" if b is missing else b.value,
                b.name_vi,
                b.name_en,
            )
            for b in (*p.bands.values, missing)
        ]
    items = "".join(
        f"<li><span class='mark {cls}'{style}>{html.escape(mark)}</span> {_bi('span', vi, en)}</li>"
        for cls, style, mark, vi, en in keys
    )
    return f"<ul class='legend'>{items}</ul>"


def _page(
    d: Dashboard,
    values: dict[str, str],
    period: TimeRange,
    lang: str,
    refresh: int,
    options: dict[str, list[tuple[str, str]]],
) -> str:
    selects = ""
    for var in d.variables:
        every = [("", "Tất cả / All")] if var.include_all else []
        opts = "".join(
            f"<option value='{html.escape(value)}'"
            f"{' selected' if value == values[var.name] else ''}>{html.escape(text)}</option>"
            for value, text in every + options.get(var.name, [])
        )
        label = _bi("span", var.label_vi, var.label_en)
        selects += f"<label>{label}<select name='{var.name}'>{opts}</select></label>"
    dates = "".join(
        f"<label>{_bi('span', vi, en)}<input type='date' name='{n}' value='{v}'></label>"
        for n, vi, en, v in (
            ("from", "Từ ngày", "From", period.start),
            ("to", "Đến ngày", "To", period.end),
        )
    )
    panels = "".join(
        f"<section class='panel {p.kind}' data-panel='{p.key}' data-kind='{p.kind}'"
        f" style='grid-column: span {p.width}'>{_bi('h2', p.title_vi, p.title_en)}"
        f"<div class='chart'></div>{_legend(p)}</section>"
        for p in d.panels
        if p.key != "as_of"
    )
    boot = {
        "uid": d.uid,
        "lang": lang,
        "dataPath": f"/dashboards/{d.uid}/data",
        "refreshSeconds": refresh,
        "labels": LABELS,
        "marks": STATUS_MARKS,
        "panels": [
            {"key": p.key, "kind": p.kind, "bands": asdict(p.bands) if p.bands else None}
            for p in d.panels
            if p.key != "as_of"
        ],
    }
    boot_json = json.dumps(boot, ensure_ascii=False).replace("</", "<\\/")
    query = urlencode({**values, "from": period.start, "to": period.end, "lang": lang})
    return (
        _head(f"{d.title_vi} — baocao")
        + f"<header>{_bi('h1', d.title_vi, d.title_en)}"
        + "<a href='/dashboards'>☰</a><button id='lang-toggle' type='button'>VI / EN</button>"
        + SIGN_OUT
        + f"</header><form class='vars' method='get'>{selects}{dates}"
        + f"<input type='hidden' name='lang' value='{lang}'>"
        + _bi("button", "Xem", "Show", "type='submit'")
        + "</form><div class='asof'>"
        + _bi("span", "Dữ liệu tính đến", "Data as of", "id='asof-label'")
        + ": <span id='asof-value'>…</span> <span id='status' class='error'></span></div>"
        + f"<main class='panels' data-query='{html.escape(query)}'>{panels}</main>"
        + f"<script id='boot' type='application/json'>{boot_json}</script>"
        + "<script src='/static/plotly.min.js'></script><script src='/static/viewer.js'></script>"
        + "</body></html>"
    )
