"""Active surveillance signals and epidemic levels of one province, read from the warehouse.

Read only from the ``signals_current`` and ``levels_latest`` views (with unit names from
``units_current``), so `baocao signals`, `baocao levels`, the service's ``/api/signals``
and ``/api/levels`` and the dashboards agree. ``handle`` plugs into the warehouse service
the way ``warehouse.compliance.handle`` does.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:  # the `baocao` command imports this module at start: no driver import
    from warehouse.client import Warehouse

Response = tuple[int, str, bytes]
#: How many days back (the asked day included) the signals list looks by default.
DEFAULT_DAYS = 7
MAX_DAYS = 366
# Province first, then its districts, communes and checkpoints.
_KIND_ORDER = "indexOf(['province', 'district', 'commune', 'checkpoint'], toString(u.kind))"
_PROVINCE_UNITS = "(SELECT unit_id FROM units_current WHERE province_id = {province:String})"

# Per unit, its newest assessment on or before the day: the latest day first; on a
# Sunday the official weekly level before the provisional daily one; then the newest
# assessment (one profile is in force per day, so profiles do not compete). Listed by
# kind, the highest level first.
LEVELS_SQL = f"""
SELECT l.unit_id AS unit_id, u.name AS name, toString(u.kind) AS kind,
    u.district_id AS district_id, l.x.1 AS level_date, toString(l.x.2) AS period,
    toString(l.x.3) AS profile, l.x.4 AS level, l.x.5 AS criteria, l.x.6 AS unconfirmed,
    l.x.7 AS why_vi, l.x.8 AS why_en, l.x.9 AS next_vi, l.x.10 AS next_en,
    l.x.11 AS assessed_at
FROM (
    SELECT unit_id, argMax((level_date, period, profile, level, criteria, unconfirmed,
            why_vi, why_en, next_vi, next_en, assessed_at),
        (level_date, period = 'week', assessed_at, profile)) AS x
    FROM levels_latest
    WHERE level_date <= {{day:Date}} AND unit_id IN {_PROVINCE_UNITS}
    GROUP BY unit_id) AS l
INNER JOIN units_current AS u ON u.unit_id = l.unit_id
ORDER BY {_KIND_ORDER}, level DESC, u.name, l.unit_id
"""

SIGNALS_SQL = f"""
SELECT s.report_date AS report_date, s.unit_id AS unit_id, u.name AS name,
    toString(u.kind) AS kind, s.signal_id AS signal_id, toString(s.rule) AS rule,
    toString(s.metric) AS metric, toString(s.dataset) AS dataset,
    toString(s.severity) AS severity, s.message_vi AS message_vi, s.message_en AS message_en,
    s.details AS details, s.first_raised_at AS first_raised_at, s.changed_at AS changed_at
FROM signals_current AS s
INNER JOIN units_current AS u ON u.unit_id = s.unit_id
WHERE s.state = 'active' AND s.report_date BETWEEN {{start:Date}} AND {{day:Date}}
    AND s.unit_id IN {_PROVINCE_UNITS}
ORDER BY s.report_date DESC, {_KIND_ORDER}, u.name, s.signal_id
"""

_PROVINCE_SQL = (
    "SELECT name FROM units_current WHERE unit_id = {province:String} AND kind = 'province'"
)


def _instant(at: datetime) -> str:
    # the columns are UTC; chDB hands them back naive
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def _province(wh: Warehouse, province: str) -> dict[str, Any]:
    found = wh.query_rows(_PROVINCE_SQL, {"province": province})
    return {"unit_id": province, "name": found[0][0] if found else None}


def levels(wh: Warehouse, day: date, province: str) -> dict[str, Any]:
    """Each unit of the province at its newest level on or before ``day``, as plain JSON."""
    units = wh.query_dicts(LEVELS_SQL, {"day": day, "province": province})
    for u in units:
        u["level_date"] = u["level_date"].isoformat()
        u["criteria"] = json.loads(u["criteria"] or "{}")
        u["unconfirmed"] = list(u["unconfirmed"])
        u["assessed_at"] = _instant(u["assessed_at"])
    return {"date": day.isoformat(), "province": _province(wh, province), "units": units}


def signals(wh: Warehouse, day: date, province: str, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """Signals of the province still active, for the ``days`` days ending ``day``."""
    start = day - timedelta(days=days - 1)
    found = wh.query_dicts(SIGNALS_SQL, {"start": start, "day": day, "province": province})
    for s in found:
        s["report_date"] = s["report_date"].isoformat()
        s["details"] = json.loads(s["details"] or "{}")
        s["first_raised_at"] = _instant(s["first_raised_at"])
        s["changed_at"] = _instant(s["changed_at"])
    return {
        "date": day.isoformat(),
        "from": start.isoformat(),
        "province": _province(wh, province),
        "signals": found,
    }


def _answer(status: int, data: Any) -> Response:
    return status, "application/json", json.dumps(data, default=str, ensure_ascii=False).encode()


def _refuse(vi: str, en: str) -> Response:
    return _answer(400, {"error": f"{vi} / {en}", "message_vi": vi, "message_en": en})


def handle(target: str, wh: Warehouse) -> Response | None:
    """Answer ``GET /api/levels?date=…&province=…`` and ``/api/signals?…[&days=N]``."""
    parts = urlsplit(target)
    path = parts.path.rstrip("/")
    if path not in ("/api/levels", "/api/signals"):
        return None
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    try:
        day = date.fromisoformat(query.get("date", ""))
    except ValueError:
        return _refuse("tham số date phải là YYYY-MM-DD", "date must be YYYY-MM-DD")
    province = query.get("province", "")
    if not province.isdigit() or len(province) != 2:
        return _refuse("tham số province phải là mã tỉnh, ví dụ 19",
                       "province must be a province code, e.g. 19")  # fmt: skip
    if path == "/api/levels":
        return _answer(200, levels(wh, day, province))
    try:
        days = int(query.get("days", DEFAULT_DAYS))
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        return _refuse(f"days phải từ 1 đến {MAX_DAYS}", f"days must be 1 to {MAX_DAYS}")
    return _answer(200, signals(wh, day, province, days))
