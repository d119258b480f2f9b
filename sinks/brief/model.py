"""What the daily brief says: every figure already computed, in both languages where it is text.

A ``Brief`` is plain frozen data. ``sinks.brief.gather`` fills it from the warehouse and
every renderer (PDF, DOCX, HTML) only lays it out, so the three formats cannot disagree.
Figures are as of the cut-off (the dataset's deadline): what came in after it, up to
``generated_at``, is listed apart in ``late_additions``, as the bulletins listed their
"bổ sung sau khi rà soát". ``None`` is a figure nobody reported, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Status = Literal["on_time", "late", "missing"]
#: The directives' target: at least 95 % of adults with two doses.
TARGET_PCT = 95.0


@dataclass(frozen=True)
class Completeness:
    """Who a dataset's figures rest on: expected units, in by the cut-off, late since."""

    dataset: str
    expected: int
    received: int  # a report by the cut-off
    late: int  # a first report after the cut-off, by the time the brief was made

    @property
    def missing(self) -> int:
        return self.expected - self.received - self.late


@dataclass(frozen=True)
class Figure:
    """One line of a figures table: today, yesterday, the 7-day average and who reported it."""

    code: str  # a metric code, or a derived one ("pcr_positivity")
    name_vi: str
    name_en: str
    dataset: str
    today: float | None
    yesterday: float | None
    avg_7d: float | None  # over the 7 days ending today that have the figure
    reported: int  # units whose report carries it today
    expected: int
    percent: bool = False

    @property
    def change(self) -> float | None:
        if self.today is None or self.yesterday is None:
            return None
        return self.today - self.yesterday


@dataclass(frozen=True)
class Place:
    """A reporting unit with community or unknown-source cases today."""

    unit_id: str
    name: str
    district: str  # the district's name ('' for a district itself or a national unit)
    province: str
    cases_new: int
    community: int
    unknown_source: int
    new_today: bool  # no community case in the unit in the 14 days before
    note: str  # the report's note: where the commune reporting it names the cases


@dataclass(frozen=True)
class SignalLine:
    """An active surveillance signal with its one-line explanation."""

    unit_id: str
    unit_name: str
    day: date
    rule: str
    severity: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class LevelLine:
    """A unit's epidemic level today, the one before it, and why."""

    unit_id: str
    unit_name: str
    kind: str
    level_date: date
    level: int | None
    previous: int | None  # the provisional daily level of the last day assessed before
    today_daily: int | None  # today's provisional daily level (what a change compares)
    why_vi: str
    why_en: str
    next_vi: str
    next_en: str
    unconfirmed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return None not in (self.today_daily, self.previous) and self.today_daily != self.previous


@dataclass(frozen=True)
class Coverage:
    """Cumulative doses of one age band (or a group of bands) against its population."""

    band: str  # an age option, or "adults" (18 and over)
    name_vi: str
    name_en: str
    population: int | None
    dose1: int
    dose2: int
    booster: int

    def percent(self, doses: int) -> float | None:
        return 100.0 * doses / self.population if self.population else None


@dataclass(frozen=True)
class UnitStatus:
    """One expected unit's report for the day: on time, late, or not at all."""

    unit_id: str
    name: str
    parent: str  # the district's (or province's) name, to tell units apart
    dataset: str
    status: Status
    first_submitted_at: datetime | None


@dataclass(frozen=True)
class AreaCompliance:
    """Counts for one district (a province's brief) or province (the national one)."""

    area_id: str
    name: str
    dataset: str
    expected: int
    on_time: int
    late: int
    missing: int


@dataclass(frozen=True)
class Compliance:
    """Reporting compliance of one dataset: the counts, the units and the areas."""

    dataset: str
    name_vi: str
    name_en: str
    completeness: Completeness
    units: tuple[UnitStatus, ...]
    areas: tuple[AreaCompliance, ...]

    def named(self, status: Status) -> tuple[UnitStatus, ...]:
        return tuple(u for u in self.units if u.status == status)


@dataclass(frozen=True)
class Change:
    """A figure a late report brought or changed: before (at the cut-off) and after."""

    code: str
    name_vi: str
    name_en: str
    before: int | None
    after: int | None


@dataclass(frozen=True)
class LateAddition:
    """A report that came in after the cut-off: a late first report or a correction."""

    unit_id: str
    name: str
    parent: str
    dataset: str
    submitted_at: datetime
    revision: int
    correction: bool  # the unit had reported by the cut-off
    reason: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Series:
    """Daily points for the charts: the 14 days ending on the brief's day."""

    days: tuple[date, ...]
    cases_new: tuple[int | None, ...]
    cases_community: tuple[int | None, ...]
    cases_avg_7d: tuple[float | None, ...]
    tests_pcr: tuple[int | None, ...]
    positivity: tuple[float | None, ...]
    dose1_cumulative: tuple[int, ...]
    dose2_cumulative: tuple[int, ...]


@dataclass(frozen=True)
class Brief:
    """Everything the daily brief says, for one province or the whole registry."""

    province_id: str | None  # None: the national roll-up of the whole registry
    area_name: str  # "Tỉnh Thái Nguyên" / "Toàn quốc"
    area_name_en: str
    day: date
    cutoff: datetime  # the deadline instant, zone-aware in the brief's zone
    generated_at: datetime
    version: int
    completeness: Mapping[str, Completeness]  # by dataset
    headline: tuple[Figure, ...]
    places: tuple[Place, ...]
    signals: tuple[SignalLine, ...]
    levels: tuple[LevelLine, ...]  # the area and the areas below it
    testing: tuple[Figure, ...]
    doses_today: tuple[Figure, ...]
    coverage: tuple[Coverage, ...]  # the age bands, then "adults"
    checkpoints: tuple[Figure, ...]
    compliance: tuple[Compliance, ...]
    late_additions: tuple[LateAddition, ...]
    after_review: Mapping[str, int | None]  # headline figures with the late additions
    series: Series
    target_pct: float = TARGET_PCT
    population_estimated: bool = False  # coverage is measured against estimates
    level_changes: tuple[LevelLine, ...] = field(default=())

    @property
    def adults(self) -> Coverage | None:
        return next((c for c in self.coverage if c.band == "adults"), None)
