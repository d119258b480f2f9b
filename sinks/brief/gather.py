"""Fill a ``Brief`` from the warehouse: one query per section, the figures as of the cut-off."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from contract.datasets import Catalog
from contract.population import Population, load_population
from contract.registry import Registry
from sinks.brief import figures, queries, sections
from sinks.brief.context import Context, Unit
from sinks.brief.model import Brief
from warehouse.client import Warehouse

CASES = "district-daily"
#: Days the charts show, and the days before them a 7-day average of their first day reads.
CHART_DAYS, AVERAGE_DAYS = 14, 7
#: Days of active signals the brief lists (the day's and the week's still standing).
SIGNAL_DAYS = 7
#: Days back a unit's previous level may lie (levels are assessed daily).
LEVEL_DAYS = 7


def gather(
    wh: Warehouse,
    registry: Registry,
    catalog: Catalog,
    province_id: str | None,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    version: int = 1,
    *,
    population: Mapping[str, Population] | None = None,
) -> Brief:
    """Read the day's brief of a province (None: the whole registry) as of ``now``.

    Figures are as of each dataset's deadline on ``day``; reports after it, up to
    ``now``, are the late additions. ``population`` (by unit, with age bands) is what
    coverage is measured against; by default the one the signal engine uses without a
    population file: the registry's figures overlaid with the shipped estimates. A
    deployment with its own file passes ``load_population(registry, its path)``.
    """
    # Made before a deadline (a brief asked for mid-day), it speaks for its own instant:
    # nothing the warehouse holds from later counts, even in a replay of the past.
    deadlines = {ds.code: min(ds.deadline_at(day, tz), now) for ds in catalog.datasets}
    cutoff = deadlines.get(CASES) or min(deadlines.values())
    units = _units(wh, province_id)
    ctx = Context(wh, catalog, province_id, day, tz, now, deadlines, units)
    lo = day - timedelta(days=CHART_DAYS + AVERAGE_DAYS - 2)
    daily = figures.Daily(
        ctx.rows(queries.DAILY, lo=lo), ctx.rows(queries.BEFORE_WINDOW, lo=lo), day
    )
    day_units = sections.day_units(ctx)
    completeness = {
        ds.code: sections.completeness(ctx, ds.code, day_units) for ds in catalog.datasets
    }
    expected = {code: c.expected for code, c in completeness.items()}
    name_vi, name_en = _area_names(ctx, registry)
    people = _population(ctx, load_population(registry) if population is None else population)
    return Brief(
        province_id=province_id,
        area_name=name_vi,
        area_name_en=name_en,
        day=day,
        cutoff=cutoff.astimezone(tz),
        generated_at=now.astimezone(tz),
        version=version,
        completeness=completeness,
        headline=figures.headline(catalog, daily, expected),
        places=sections.places(ctx, day_units),
        signals=sections.signals(ctx, SIGNAL_DAYS),
        levels=(levels := sections.levels(ctx, LEVEL_DAYS)),
        level_changes=tuple(line for line in levels if line.changed),
        testing=figures.testing(catalog, daily, expected),
        doses_today=figures.doses(catalog, daily, expected),
        coverage=figures.coverage(catalog, daily, people[:2]),
        population_estimated=people[2],
        checkpoints=figures.checkpoints(catalog, daily, expected),
        compliance=tuple(sections.compliance(ctx, ds, day_units) for ds in catalog.datasets),
        late_additions=sections.late_additions(ctx, day_units),
        after_review=sections.after_review(ctx, day_units),
        series=figures.series(daily, CHART_DAYS),
    )


def _units(wh: Warehouse, province_id: str | None) -> dict[str, Unit]:
    params = {} if province_id is None else {"province": province_id}
    text = queries.UNITS.replace("{area}", "1" if province_id is None else queries.PROVINCE)
    out = {}
    for uid, name, kind, _, prov, district, pop, by_age, datasets, start, end in wh.query_rows(
        text, params
    ):
        out[uid] = Unit(
            uid, name, kind, prov, district, pop, dict(by_age), tuple(datasets), start, end
        )
    return out


def _area_names(ctx: Context, registry: Registry) -> tuple[str, str]:
    if ctx.province_id is None:
        return "Toàn quốc", "Nationwide"
    # The warehouse's registry names the province; the caller's is the fallback.
    unit = ctx.units.get(ctx.province_id) or registry.get(ctx.province_id)
    name = unit.name if unit else ctx.province_id
    return name, name


def _population(
    ctx: Context, population: Mapping[str, Population]
) -> tuple[int | None, Mapping[str, int], bool]:
    """The area's population, its age bands and whether any is an estimate: its own
    unit's, nationally the provinces' added up (the warehouse's units' where unknown)."""
    if ctx.province_id is not None:
        ids = [ctx.province_id]
    else:
        ids = [u.unit_id for u in ctx.units.values() if u.kind == "province"]
    totals: list[int | None] = []
    bands: dict[str, int] = {}
    known = True  # every unit's bands: a sum missing one province would understate it
    estimated = False
    for uid in ids:
        pop = population.get(uid)
        estimated = estimated or bool(pop and pop.estimated)
        unit = ctx.units.get(uid)
        totals.append(pop.total if pop else (unit.population if unit else None))
        by_age = pop.by_age if pop else (unit.by_age if unit else {})
        known = known and bool(by_age)
        for band, n in by_age.items():
            bands[band] = bands.get(band, 0) + n
    total = None if None in totals or not totals else sum(t or 0 for t in totals)
    return total, bands if known else {}, estimated
