"""Make a new version of an area's daily brief when the warehouse's data for it changed.

Cheap first, dear second: a *mark* per area and day (how many reports, signals and
level assessments the warehouse holds for it, and the newest instant among them) is
one query over all watched days; only an area whose mark moved since its last version
is gathered again, and a new version is kept only if the gathered content differs
(``content_hash``: everything but ``generated_at`` and ``version``). A redelivered row
or a correction that changes nothing therefore costs one gather and makes no version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import BaocaoError
from contract.population import Population
from contract.registry import Registry, UnitKind
from sinks.brief.archive import NATIONAL, Archive, Version, area_of, province_of
from sinks.brief.gather import gather
from sinks.brief.model import Brief
from sinks.brief.render import FORMATS, Format, render
from warehouse.client import Warehouse

Gather = Callable[..., Brief]
Render = Callable[[Brief, Format, Literal["vi", "en"]], bytes]

#: Per province and day: distinct reports, signals and assessments, and the newest instant.
MARKS_SQL = """
SELECT u.province_id AS province_id, x.day AS day,
    concat(toString(uniqExact(x.id)), '/', toString(max(x.at))) AS mark
FROM (
    SELECT r.unit_id AS unit_id, r.report_date AS day, toString(r.report_id) AS id,
        r.accepted_at AS at
    FROM reports AS r WHERE r.report_date IN {days:Array(Date)}
    UNION ALL
    SELECT s.unit_id AS unit_id, s.report_date AS day, s.alert_id AS id, s.changed_at AS at
    FROM signals AS s WHERE s.report_date IN {days:Array(Date)}
    UNION ALL
    SELECT l.unit_id AS unit_id, l.level_date AS day,
        concat(l.profile, '/', l.period, '/', toString(l.assessed_at)) AS id, l.assessed_at AS at
    FROM levels AS l WHERE l.level_date IN {days:Array(Date)}
) AS x
INNER JOIN units_current AS u ON u.unit_id = x.unit_id
GROUP BY u.province_id, x.day
"""
#: Reports of a day in a province (or anywhere): zero means there is nothing to brief.
REPORTED_SQL = """
SELECT uniqExact(r.unit_id) FROM reports AS r
WHERE r.report_date = {day:Date} {area}
"""
_IN_PROVINCE = (
    "AND r.unit_id IN (SELECT unit_id FROM units_current WHERE province_id = {province:String})"
)


def content_hash(brief: Brief) -> str:
    """What a version says, as a digest: equal digests, same brief, whenever it was made."""
    data = dataclasses.asdict(brief)
    data.pop("generated_at"), data.pop("version")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class NoBrief(BaocaoError):
    """Nothing to brief: an area that is not a province, or a day nobody reported."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


def check_brief(wh: Warehouse, registry: Registry, province_id: str | None, day: date) -> None:
    """Raise ``NoBrief`` unless ``province_id`` (None: the nation) has reports on ``day``."""
    if province_id is not None:
        unit = registry.get(province_id)
        if unit is None or unit.kind != UnitKind.PROVINCE:
            vi, en = f"Không có tỉnh mã {province_id}.", f"No province with code {province_id}."
            raise NoBrief(vi, en)
    if reported_units(wh, province_id, day) == 0:
        where_vi = f"tỉnh mã {province_id}" if province_id else "toàn quốc"
        where_en = f"province {province_id}" if province_id else "anywhere"
        raise NoBrief(
            f"Không có số liệu báo cáo ngày {day:%d/%m/%Y} ({where_vi}).",
            f"No reports for {day.isoformat()} ({where_en}).",
        )


def document(
    wh: Warehouse,
    registry: Registry,
    catalog: Catalog,
    province_id: str | None,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    fmt: Format,
    lang: Literal["vi", "en"] = "vi",
    population: Mapping[str, Population] | None = None,
) -> bytes:
    """One brief as a document, not archived (``baocao brief``); ``NoBrief`` if there is none."""
    check_brief(wh, registry, province_id, day)
    brief = gather(wh, registry, catalog, province_id, day, tz, now, population=population)
    return render(brief, fmt, lang)


def units_counts(brief: Brief) -> tuple[int, int]:
    """(units that reported by the time it was made, units expected), over every dataset."""
    done = sum(c.received + c.late for c in brief.completeness.values())
    return done, sum(c.expected for c in brief.completeness.values())


def reported_units(wh: Warehouse, province_id: str | None, day: date) -> int:
    """How many units reported anything for ``day`` in the province (None: anywhere)."""
    params: dict[str, Any] = {"day": day}
    if province_id is not None:
        params["province"] = province_id
    sql = REPORTED_SQL.replace("{area}", _IN_PROVINCE if province_id is not None else "")
    return int(wh.query_rows(sql, params)[0][0])


@dataclass(frozen=True)
class Due:
    """An area and day whose data moved since its latest version (0: it has none yet)."""

    area: str
    day: date
    mark: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "day": self.day.isoformat(),
            "mark": self.mark,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Due:
        return cls(data["area"], date.fromisoformat(data["day"]), data["mark"], data["version"])


class BriefMaker:
    """Decide which briefs are due a version and make them, one at a time."""

    def __init__(
        self,
        wh: Warehouse,
        registry: Registry,
        catalog: Catalog,
        archive: Archive,
        tz: ZoneInfo,
        clock: Clock,
        population: Mapping[str, Population] | None = None,
        gather: Gather = gather,
        render: Render = render,
    ) -> None:
        self.wh, self.registry, self.catalog, self.archive = wh, registry, catalog, archive
        self.tz, self.clock, self.population = tz, clock, population
        self.gather, self.render = gather, render
        self._lock = threading.Lock()  # two makes of one area must not both take version N
        self._checked: dict[tuple[str, date], str] = {}  # marks gathered without a change
        self._areas: dict[date, list[str]] = {}

    def areas(self, day: date) -> list[str]:
        """Provinces with units expected to report ``day``, then the national roll-up."""
        if day not in self._areas:  # the registry is fixed: a day's areas never change
            if len(self._areas) > 64:  # only the watched days are asked for, every look
                self._areas.clear()
            expected = {
                u.province_id
                for ds in self.catalog.datasets
                for u in self.registry.expected(ds.code, day)
            }
            provinces = self.registry.filter(kind=UnitKind.PROVINCE, on=day)
            found = sorted(p.unit_id for p in provinces if p.unit_id in expected)
            self._areas[day] = [*found, NATIONAL]
        return self._areas[day]

    def marks(self, days: Iterable[date]) -> dict[tuple[str, date], str]:
        """Each area's mark on each day; the national one sums up the provinces'."""
        rows = self.wh.query_rows(MARKS_SQL, {"days": sorted(set(days))})
        out = {(str(p), d): str(m) for p, d, m in rows}
        for day in {d for _, d in out}:
            parts = sorted(f"{p}={m}" for (p, d), m in out.items() if d == day)
            out[(NATIONAL, day)] = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        return out

    def pending(self, days: Sequence[date]) -> list[Due]:
        """Areas of ``days`` with no version yet, or whose mark moved since their latest."""
        if not days:
            return []
        marks = self.marks(days)
        latest = self.archive.latest(days)
        out = []
        for day in sorted(set(days)):
            for area in self.areas(day):
                mark, have = marks.get((area, day), ""), latest.get((area, day))
                known = self._checked.get((area, day), have.source_mark if have else None)
                if have is None or mark != known:
                    out.append(Due(area, day, mark, have.version if have else 0))
        return out

    def versions(self, first: date, last: date, area: str | None = None) -> list[Version]:
        """Every version of the days ``first``..``last`` (the archive's list)."""
        return self.archive.versions(first, last, area)

    def make(self, area: str, day: date) -> Version | None:
        """Gather the area's brief; archive it as a new version unless it says nothing new."""
        with self._lock:
            latest = self.archive.latest([day]).get((area, day))
            mark = self.marks([day]).get((area, day), "")  # before gathering: a change
            number = latest.version + 1 if latest else 1  # during it is seen next time
            now = self.clock.now()
            brief = self.gather(
                self.wh,
                self.registry,
                self.catalog,
                province_of(area),
                day,
                self.tz,
                now,
                number,
                population=self.population,
            )
            digest = content_hash(brief)
            if latest is not None and digest == latest.content_hash:
                self._remember(area, day, mark)
                return None
            files = {fmt: self.render(brief, fmt, "vi") for fmt in FORMATS}
            reported, expected = units_counts(brief)
            version = Version(
                area=area_of(brief.province_id),
                report_date=day,
                version=number,
                generated_at=brief.generated_at.astimezone(UTC),
                formats=FORMATS,
                content_hash=digest,
                cutoff=brief.cutoff.astimezone(UTC),
                units_reported=reported,
                units_expected=expected,
                source_mark=mark,
            )
            stored = self.archive.store(version, files)
            self._remember(area, day, mark)
            return stored

    def _remember(self, area: str, day: date, mark: str) -> None:
        if len(self._checked) > 10_000:  # only the watched days matter; they are few
            self._checked.clear()
        self._checked[(area, day)] = mark
