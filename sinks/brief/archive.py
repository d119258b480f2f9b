"""The brief archive: versioned files under ``brief_dir``, listed in the warehouse's ``briefs``.

``<brief_dir>/<area>/<date>/v<N>.{pdf,docx,html}``, where the area is a province id or
``national``. A version is written once and never rewritten: its files first (each
renamed into place whole), then its row, so a listed version always has its files.
Files without a row (a crash between the two) are overwritten by the next attempt at
the same version number, which the table still says is free.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sinks.brief.render import FORMATS, Format
from warehouse.client import Warehouse
from warehouse.schema import BRIEFS

#: The area of the roll-up of the whole registry (its Brief has province_id None).
NATIONAL = "national"
#: What may name an area or a file in a path: nothing that could climb out of brief_dir.
AREA = re.compile(r"^(national|[A-Za-z0-9][A-Za-z0-9-]{0,31})$")
FILE = re.compile(r"^v([1-9][0-9]{0,4})\.(pdf|docx|html)$")

_COLUMNS = ", ".join(BRIEFS.column_names)
_LIST_SQL = f"""
SELECT {_COLUMNS} FROM briefs
WHERE report_date BETWEEN {{first:Date}} AND {{last:Date}} {{area}}
ORDER BY report_date DESC, province_id, version DESC
LIMIT 1 BY province_id, report_date, version
"""
_LATEST_SQL = f"""
SELECT {_COLUMNS} FROM briefs_latest WHERE report_date IN {{days:Array(Date)}}
"""


def area_of(province_id: str | None) -> str:
    """The archive's name for a brief's area: its province id, or ``national``."""
    return NATIONAL if province_id is None else province_id


def province_of(area: str) -> str | None:
    """The Brief's province_id for an area of the archive."""
    return None if area == NATIONAL else area


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # chDB hands UTC back without a zone


@dataclass(frozen=True)
class Version:
    """One archived version of one area's brief for one day, as the table lists it."""

    area: str
    report_date: date
    version: int
    generated_at: datetime
    formats: tuple[str, ...]
    content_hash: str
    cutoff: datetime
    units_reported: int
    units_expected: int
    source_mark: str

    @property
    def path(self) -> str:
        """Where its files are, relative to brief_dir, without the format's suffix."""
        return f"{self.area}/{self.report_date.isoformat()}/v{self.version}"

    def url(self, fmt: str) -> str:
        """The web page or file of this version (``/briefs/...``)."""
        return f"/briefs/{self.path}.{fmt}"

    def download_name(self, fmt: str) -> str:
        return f"bao-cao-nhanh-{self.area}-{self.report_date.isoformat()}-v{self.version}.{fmt}"

    def row(self) -> tuple[Any, ...]:
        return (
            self.area,
            self.report_date,
            self.version,
            self.generated_at,
            list(self.formats),
            self.content_hash,
            self.path,
            self.cutoff,
            self.units_reported,
            self.units_expected,
            self.source_mark,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Version:
        return cls(
            area=row["province_id"],
            report_date=row["report_date"],
            version=int(row["version"]),
            generated_at=_utc(row["generated_at"]),
            formats=tuple(row["formats"]),
            content_hash=row["content_hash"],
            cutoff=_utc(row["cutoff"]),
            units_reported=int(row["units_reported"]),
            units_expected=int(row["units_expected"]),
            source_mark=row["source_mark"],
        )

    def to_json(self) -> dict[str, Any]:
        """The version as JSON (the warehouse service's /api/briefs answers)."""
        return {
            "area": self.area,
            "report_date": self.report_date.isoformat(),
            "version": self.version,
            "generated_at": self.generated_at.isoformat(),
            "formats": list(self.formats),
            "content_hash": self.content_hash,
            "path": self.path,
            "cutoff": self.cutoff.isoformat(),
            "units_reported": self.units_reported,
            "units_expected": self.units_expected,
            "source_mark": self.source_mark,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Version:
        return cls.from_row(
            {
                **data,
                "province_id": data["area"],
                "report_date": date.fromisoformat(data["report_date"]),
                "generated_at": datetime.fromisoformat(data["generated_at"]),
                "cutoff": datetime.fromisoformat(data["cutoff"]),
            }
        )


class Archive:
    """Store versions on disk and in the warehouse; list them; find their files."""

    def __init__(self, root: Path, wh: Warehouse) -> None:
        self.root = root
        self.wh = wh

    def versions(self, first: date, last: date, area: str | None = None) -> list[Version]:
        """Every version of the days ``first``..``last``, newest day and version first."""
        sql = _LIST_SQL.replace("{area}", "AND province_id = {area:String}" if area else "")
        params: dict[str, Any] = {"first": first, "last": last}
        if area:
            params["area"] = area
        return [Version.from_row(r) for r in self.wh.query_dicts(sql, params)]

    def newest_day(self) -> date | None:
        """The latest day any version is of, if there is one."""
        found = self.wh.query_rows("SELECT max(report_date), count() FROM briefs")[0]
        return found[0] if found[1] else None

    def latest(self, days: Iterable[date]) -> dict[tuple[str, date], Version]:
        """The newest version of every area on each of ``days`` that has one."""
        rows = self.wh.query_dicts(_LATEST_SQL, {"days": sorted(set(days))})
        found = (Version.from_row(r) for r in rows)
        return {(v.area, v.report_date): v for v in found}

    def file(self, area: str, day: date, name: str) -> Path | None:
        """The archived file ``name`` (``v2.pdf``) of an area and day, if it is valid and there."""
        if not AREA.match(area) or not FILE.match(name):
            return None
        path = self.root / area / day.isoformat() / name
        return path if path.is_file() else None

    def store(self, version: Version, files: Mapping[Format, bytes]) -> Version:
        """Write a version's files, then list it; return it as listed."""
        if not AREA.match(version.area) or set(files) - set(FORMATS):
            raise ValueError(f"not an archivable brief: {version.area} {sorted(files)}")
        folder = self.root / version.area / version.report_date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for fmt, body in files.items():
            final = folder / f"v{version.version}.{fmt}"
            tmp = final.with_name(f".{final.name}.tmp")
            tmp.write_bytes(body)
            os.replace(tmp, final)  # a reader sees the whole file or none
        token = f"brief:{version.path}:{version.content_hash}"
        self.wh.insert("briefs", [version.row()], BRIEFS.column_names, dedup_token=token)
        return version
