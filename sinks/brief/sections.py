"""The brief's sections about units: where, signals, levels, compliance and late additions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sinks.brief import queries
from sinks.brief.figures import CASES, HEADLINE
from sinks.brief.model import (
    AreaCompliance,
    Change,
    Completeness,
    Compliance,
    LateAddition,
    LevelLine,
    Place,
    SignalLine,
    Status,
    UnitStatus,
)

if TYPE_CHECKING:
    from contract.datasets import Dataset
    from sinks.brief.context import Context

#: Unit kinds whose levels the brief tabulates: a province's own and its districts'; the
#: nation's provinces. Communes are many; their level is on the signals dashboard.
PROVINCE_LEVEL_KINDS = ("province", "district")
NATIONAL_KINDS = ("province",)
#: How far back "new today" looks for a unit's earlier community cases.
QUIET_LOOKBACK = 14
_KIND_ORDER = {"province": 0, "district": 1, "commune": 2, "checkpoint": 3}


@dataclass(frozen=True)
class DayUnit:
    """One unit's reports of the day: at the cut-off (revision 0: none yet) and latest."""

    dataset: str
    unit_id: str
    revision: int
    values: dict[str, int]
    note: str
    latest_revision: int
    latest_values: dict[str, int]
    latest_at: datetime
    reason: str
    first_at: datetime


def _values(text: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(text or "{}").items()}


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # chDB hands UTC columns back naive


def day_units(ctx: Context) -> list[DayUnit]:
    """Every unit's reports of the day, up to the brief's instant."""
    out = []
    for dataset, uid, cut, latest, first in ctx.rows(queries.DAY_UNITS):
        out.append(
            DayUnit(
                dataset,
                uid,
                int(cut[0]),
                _values(cut[1]),
                cut[2],
                int(latest[0]),
                _values(latest[1]),
                _utc(latest[3]),
                latest[4],
                _utc(first),
            )
        )
    return out


def _metric_totals(values: dict[str, int]) -> dict[str, int]:
    """A report's values by metric, disaggregated options added up."""
    out: dict[str, int] = {}
    for key, value in values.items():
        metric = key.partition(".")[0]
        out[metric] = out.get(metric, 0) + value
    return out


def _statuses(ctx: Context, dataset: str, units: list[DayUnit]) -> dict[str, Status]:
    by_unit = {u.unit_id: u for u in units if u.dataset == dataset}
    out: dict[str, Status] = {}
    for unit in ctx.expected(dataset):
        found = by_unit.get(unit.unit_id)
        out[unit.unit_id] = (
            "missing" if found is None else "on_time" if found.revision > 0 else "late"
        )
    return out


def completeness(ctx: Context, dataset: str, units: list[DayUnit]) -> Completeness:
    """Expected units, those in by the cut-off, and the late ones since."""
    statuses = list(_statuses(ctx, dataset, units).values())
    return Completeness(dataset, len(statuses), statuses.count("on_time"), statuses.count("late"))


def compliance(ctx: Context, ds: Dataset, units: list[DayUnit]) -> Compliance:
    """Who reported on time, late and not at all, by name, and the counts by area."""
    statuses = _statuses(ctx, ds.code, units)
    first = {u.unit_id: u.first_at for u in units if u.dataset == ds.code}
    listed = [
        UnitStatus(uid, ctx.name(uid), ctx.parent(uid), ds.code, status, first.get(uid))
        for uid, status in statuses.items()
    ]
    listed.sort(key=lambda u: (u.parent, u.name, u.unit_id))
    areas: dict[str, list[Status]] = {}
    for uid, status in statuses.items():
        unit = ctx.units[uid]
        area = unit.province_id if ctx.province_id is None else unit.district_id or uid
        areas.setdefault(area, []).append(status)
    rollup = [
        AreaCompliance(
            area,
            ctx.name(area),
            ds.code,
            len(s),
            s.count("on_time"),
            s.count("late"),
            s.count("missing"),
        )
        for area, s in areas.items()
    ]
    rollup.sort(key=lambda a: (a.name, a.area_id))
    return Compliance(
        ds.code,
        ds.name_vi,
        ds.name_en,
        completeness(ctx, ds.code, units),
        tuple(listed),
        tuple(rollup),
    )


def places(ctx: Context, units: list[DayUnit]) -> tuple[Place, ...]:
    """Units with community or unknown-source cases by the cut-off; which are new."""
    rows = ctx.rows(
        queries.COMMUNITY_BEFORE,
        since=ctx.day - timedelta(days=QUIET_LOOKBACK),
        before=ctx.day - timedelta(days=1),
    )
    earlier = {uid for uid, _ in rows}
    out = []
    for u in units:
        if u.dataset != CASES or u.revision == 0:
            continue
        community = u.values.get("cases_community", 0)
        unknown = u.values.get("cases_unknown_source", 0)
        if not community and not unknown:
            continue
        unit = ctx.units.get(u.unit_id)
        out.append(
            Place(
                u.unit_id,
                ctx.name(u.unit_id),
                ctx.parent(u.unit_id) if ctx.province_id else "",
                ctx.name(unit.province_id) if unit else "",
                u.values.get("cases_new", 0),
                community,
                unknown,
                community > 0 and u.unit_id not in earlier,
                u.note,
            )
        )
    out.sort(key=lambda p: (-p.community, -p.unknown_source, p.name))
    return tuple(out)


def signals(ctx: Context, days: int) -> tuple[SignalLine, ...]:
    """Signals still active at the brief's instant, raised for the last ``days`` days."""
    kinds = NATIONAL_KINDS if ctx.province_id is None else ()
    rows = ctx.rows(queries.SIGNALS, kinds, since=ctx.day - timedelta(days=days - 1))
    out = [
        SignalLine(uid, ctx.name(uid), d, rule, severity, vi, en)
        for _, uid, d, rule, severity, vi, en in rows
    ]
    kind = {uid: _KIND_ORDER.get(u.kind, 9) for uid, u in ctx.units.items()}
    out.sort(key=lambda s: (-s.day.toordinal(), kind.get(s.unit_id, 9), s.unit_name, s.rule))
    return tuple(out)


def levels(ctx: Context, days: int) -> tuple[LevelLine, ...]:
    """The area's and its areas' levels, each with the day's provisional and the one before."""
    kinds = NATIONAL_KINDS if ctx.province_id is None else PROVINCE_LEVEL_KINDS
    rows = ctx.rows(queries.LEVELS, kinds, since=ctx.day - timedelta(days=days))
    by_unit: dict[str, list[tuple[date, tuple[Any, ...], int | None, int]]] = {}
    for uid, d, best, daily, dailies in rows:
        by_unit.setdefault(uid, []).append((d, best, daily, int(dailies)))
    out = []
    for uid, found in by_unit.items():
        found.sort(key=lambda r: r[0])
        d, best, _, _ = found[-1]
        today = next((r[2] for r in found if r[0] == ctx.day and r[3]), None)
        before = [r[2] for r in found if r[0] < ctx.day and r[3]]
        level, why_vi, why_en, next_vi, next_en, unconfirmed = best
        out.append(
            LevelLine(
                uid,
                ctx.name(uid),
                ctx.units[uid].kind if uid in ctx.units else "",
                d,
                level,
                before[-1] if before else None,
                today,
                str(why_vi),
                str(why_en),
                str(next_vi),
                str(next_en),
                tuple(str(u) for u in unconfirmed),
            )
        )
    out.sort(key=lambda x: (_KIND_ORDER.get(x.kind, 9), -(x.level or 0), x.unit_name))
    return tuple(out)


def late_additions(ctx: Context, units: list[DayUnit]) -> tuple[LateAddition, ...]:
    """Reports of the day that came in after the cut-off: late ones and corrections."""
    out = []
    for u in units:
        cutoff = ctx.deadlines[u.dataset]
        if u.latest_at < cutoff:
            continue
        before = _metric_totals(u.values) if u.revision else {}
        after = _metric_totals(u.latest_values)
        ds = ctx.catalog.get(u.dataset)
        changes = []
        for code in [m.code for m in ds.metrics] if ds else sorted({*before, *after}):
            if before.get(code) != after.get(code):
                metric = ds.metric(code) if ds else None
                vi, en = (metric.name_vi, metric.name_en) if metric else (code, code)
                changes.append(Change(code, vi, en, before.get(code), after.get(code)))
        out.append(
            LateAddition(
                u.unit_id,
                ctx.name(u.unit_id),
                ctx.parent(u.unit_id),
                u.dataset,
                u.latest_at.astimezone(ctx.tz),
                u.latest_revision,
                u.revision > 0,
                u.reason,
                tuple(changes),
            )
        )
    out.sort(key=lambda a: (a.submitted_at, a.name))
    return tuple(out)


def after_review(ctx: Context, units: list[DayUnit]) -> dict[str, int | None]:
    """The headline figures with every report of the day up to the brief's instant."""
    sums: dict[str, int | None] = dict.fromkeys(HEADLINE)
    for u in units:
        if u.dataset != CASES:
            continue
        totals = _metric_totals(u.latest_values)
        for code in HEADLINE:
            if code in totals:
                sums[code] = (sums[code] or 0) + totals[code]
    return sums
