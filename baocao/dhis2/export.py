"""The warehouse's latest revision of each unit-day, as a DHIS2 ``dataValueSets`` document.

DHIS2 keeps one value per (data element, period, organisation unit, combo), so a unit-day
goes out as its latest accepted revision only: the values of ``daily_values`` (read with
FINAL, the rollup of the latest revision: warehouse/daily_values.py) and, as the data
set's completion date, the first accepted submission of the unit-day (``reports_latest``).
A metric a correction left out is not sent, so DHIS2 keeps what it had for it (DHIS2
deletes a value only when told to).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from baocao.dhis2.mapping import DatasetMapping
from warehouse.client import Warehouse

#: The longest span one export reads (a year and a day: a leap year's whole).
MAX_DAYS = 366

VALUES_SQL = """
SELECT unit_id, report_date, counts, revision, toString(report_id) AS report_id
FROM daily_values FINAL
WHERE dataset = {dataset:String} AND report_date BETWEEN {start:Date} AND {end:Date}
ORDER BY report_date, unit_id
"""

FIRST_SQL = """
SELECT unit_id, report_date, first_submitted_at
FROM reports_latest
WHERE dataset = {dataset:String} AND report_date BETWEEN {start:Date} AND {end:Date}
"""


def latest_reports(wh: Warehouse, dataset: str, start: date, end: date) -> list[dict[str, Any]]:
    """Each unit-day of ``dataset`` in [start, end]: its latest values, as JSON-able dicts.

    Keys: unit_id, report_date (ISO), values ({key: count}), revision, report_id and
    first_submitted_at (ISO, UTC), the first accepted submission of the unit-day.
    """
    bound = {"dataset": dataset, "start": start, "end": end}
    firsts = {
        (r["unit_id"], r["report_date"]): _utc(r["first_submitted_at"])
        for r in wh.query_dicts(FIRST_SQL, bound)
    }
    out = []
    for r in wh.query_dicts(VALUES_SQL, bound):
        first = firsts.get((r["unit_id"], r["report_date"]))
        out.append(
            {
                "unit_id": r["unit_id"],
                "report_date": r["report_date"].isoformat(),
                "values": {str(k): int(v) for k, v in sorted(r["counts"].items())},
                "revision": int(r["revision"]),
                "report_id": r["report_id"],
                "first_submitted_at": first.isoformat() if first else None,
            }
        )
    return out


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def period(day: date) -> str:
    """DHIS2's daily period: yyyyMMdd."""
    return day.strftime("%Y%m%d")


def dhis2_time(at: datetime, tz: ZoneInfo) -> str:
    """An instant as DHIS2 writes dates: local time, milliseconds, no offset."""
    return at.astimezone(tz).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Export:
    """A document and what went into it."""

    document: dict[str, Any]
    reports: int
    values: int
    #: value key -> how many values of it were left out (no mapping)
    unmapped: Counter[str]


def document(rows: list[dict[str, Any]], mapping: DatasetMapping, tz: ZoneInfo) -> Export:
    """The ``dataValueSets`` document of ``latest_reports`` rows, with what was left out."""
    values: list[dict[str, str]] = []
    registrations: list[dict[str, Any]] = []
    unmapped: Counter[str] = Counter()
    for row in rows:
        pe = period(date.fromisoformat(row["report_date"]))
        for key, count in sorted(row["values"].items()):
            target = mapping.targets.get(key)
            if target is None:
                unmapped[key] += 1
                continue
            values.append(
                {
                    "dataElement": target.data_element,
                    "period": pe,
                    "orgUnit": row["unit_id"],
                    "categoryOptionCombo": target.category_option_combo,
                    "value": str(count),
                }
            )
        registration: dict[str, Any] = {
            "dataSet": mapping.data_set,
            "period": pe,
            "organisationUnit": row["unit_id"],
            "completed": True,
        }
        if row.get("first_submitted_at"):
            first = datetime.fromisoformat(row["first_submitted_at"])
            registration["date"] = dhis2_time(first, tz)
        registrations.append(registration)
    doc = {
        "dataSet": mapping.data_set,
        "dataValues": values,
        "completeDataSetRegistrations": registrations,
    }
    return Export(doc, len(rows), len(values), unmapped)
