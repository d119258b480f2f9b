"""Faust wiring of signals and levels: per unit where it is decided, per area by repartition.

A unit's series is updated right after its report is accepted, in the same event (no
second read of ``reports.accepted``), so its table entry lives in the partition of the
unit's key. Areas span partitions: the unit's kept values for the day go to the
``signals.areas`` topic keyed by each area above it (district, province), and the
``roll_up_signals`` agent adds the children up per area and day. Alerts are published
and acknowledged before the series records them (``streams/publish.py``); a crash in
between sends the same alert ids again, which the sink and the notifier drop. Levels are
data: sent with the input's commit, stored by the warehouse under their key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import faust

from contract import topics
from contract.clock import Clock
from contract.datasets import Catalog
from contract.events import ReportAccepted
from contract.levels import LevelProfiles
from contract.population import load_population
from contract.registry import Registry, UnitKind
from contract.settings import Settings
from contract.signal_config import SignalConfig
from streams import state
from streams.dead_letters import DeadLetterHook
from streams.publish import publish_acked
from streams.series import Rev
from streams.signals import Outcome, SignalEngine

log = logging.getLogger(__name__)

AREAS = topics.SIGNAL_AREAS
AfterAccepted = Callable[[ReportAccepted], Awaitable[None]]
_AREA_KINDS = (UnitKind.DISTRICT, UnitKind.PROVINCE)


def revision_of(revision: int, submitted_at: datetime, report_id: str) -> Rev:
    """A unit-day's version as the series orders them (UTC text, as the warehouse gives it)."""
    return [revision, submitted_at.astimezone(UTC).isoformat(), report_id]


def engine_of(settings: Settings, registry: Registry, catalog: Catalog) -> SignalEngine:
    """The signal engine configured by ``settings`` (rules, profiles, population)."""
    return SignalEngine(
        SignalConfig.load(settings.signals_path),
        LevelProfiles.load(settings.level_profiles_path),
        load_population(registry, settings.population_path),
        registry,
        catalog,
        settings.level_profile,
    )


def areas_above(registry: Registry, unit_id: str) -> list[str]:
    """The districts and provinces a unit's numbers roll up into, nearest first."""
    out: list[str] = []
    unit = registry.get(unit_id)
    while unit is not None and unit.parent_id is not None:
        unit = registry.get(unit.parent_id)
        if unit is not None and unit.kind in _AREA_KINDS:
            out.append(unit.unit_id)
    return out


def area_total(children: dict[str, Any]) -> dict[str, int]:
    """An area's day: its children's kept values (``child -> [rev, values]``) added up."""
    total: dict[str, int] = {}
    for _, kept in children.values():
        for k, v in kept.items():
            total[k] = total.get(k, 0) + v
    return total


def install(
    app: faust.App,
    settings: Settings,
    registry: Registry,
    catalog: Catalog,
    clock: Clock,
    declare: Callable[[str], faust.TopicT],
    alerts: faust.TopicT,
    dead_letter: DeadLetterHook,
) -> AfterAccepted:
    """Add the signal tables, the area topic and its agent; return the per-acceptance hook."""
    engine = engine_of(settings, registry, catalog)
    series = state.table(app, "signal_series", settings)
    contributions = state.table(app, "signal_contributions", settings)
    areas, levels = declare(AREAS), declare(topics.LEVELS)
    above: dict[str, list[str]] = {}
    app.signals = engine  # type: ignore[attr-defined]  # exposed for tests and the bench

    async def settle(key: str, outcome: Outcome) -> None:
        if outcome.alerts:
            await publish_acked([(a.unit_id.encode(), a.to_json()) for a in outcome.alerts], alerts)
        for level in outcome.levels:
            await levels.send(key=level.unit_id.encode(), value=level.to_json())
        series[key] = outcome.series.to_json()

    async def after_accepted(report: ReportAccepted) -> None:
        """Re-evaluate the unit from the accepted report's day; pass its day to its areas."""
        if not engine.keys(report.dataset):
            return  # no rule reads this dataset
        values = engine.extract(report.dataset, report.values)
        rev = revision_of(report.revision, report.submitted_at, str(report.report_id))
        key = f"{report.unit_id}|{report.dataset}"
        day = report.report_date
        outcome = engine.observe(
            series.get(key), report.unit_id, report.dataset, day, rev, values, clock.now()
        )
        if outcome is None:
            return  # an older revision, or a day too old to re-evaluate
        await settle(key, outcome)
        if report.unit_id not in above:
            above[report.unit_id] = areas_above(registry, report.unit_id)
        body = json.dumps(
            {
                "child": report.unit_id,
                "dataset": report.dataset,
                "day": day.isoformat(),
                "rev": rev,
                "values": values,
            }
        ).encode()
        for area in above[report.unit_id]:
            await areas.send(key=area.encode(), value=body)  # with the input's commit

    @app.agent(areas, name="roll_up_signals")
    async def roll_up_signals(stream: faust.StreamT[bytes]) -> None:
        """Add a child's day into its area's day and re-evaluate the area from there."""
        async for event in stream.events():
            try:
                area = event.key.decode()
                msg = json.loads(event.value)
                child, dataset = str(msg["child"]), str(msg["dataset"])
                day, rev = date.fromisoformat(msg["day"]), list(msg["rev"])
                values = {str(k): int(v) for k, v in msg["values"].items()}
            except (AttributeError, ValueError, KeyError, TypeError) as exc:
                await dead_letter(event, f"malformed area update: {type(exc).__name__}: {exc}")
                continue
            await roll_up(area, child, dataset, day, rev, values)

    async def roll_up(
        area: str, child: str, dataset: str, day: date, rev: list[Any], values: dict[str, int]
    ) -> None:
        day_key = f"{area}|{dataset}|{day.isoformat()}"
        children: dict[str, Any] = dict(contributions.get(day_key) or {})
        old = children.get(child)
        if old is not None and rev < list(old[0]):
            return  # the area already holds a newer revision of this child's day
        children[child] = [rev, values]
        contributions[day_key] = children
        total = area_total(children)
        key = f"{area}|{dataset}"
        stored = series.get(key)
        outcome = engine.observe(stored, area, dataset, day, [], total, clock.now())
        if outcome is None:
            return
        await settle(key, outcome)
        kept_from = min(outcome.series.days)
        before = [date.fromisoformat(d) for d in ((stored or {}).get("d") or {})]
        for gone in (d for d in before if d < kept_from):
            contributions.delete(f"{area}|{dataset}|{gone.isoformat()}")

    return after_accepted
