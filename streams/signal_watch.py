"""Faust wiring of signals and levels: one batched agent for units and the areas above them.

The decision agent hands each accepted report's kept values to the ``signals.subjects``
topic keyed by its unit, with the decision's commit, and evaluates nothing itself: at
15:00 it must keep deciding (bench/burst.py). The ``roll_up_signals`` agent takes those
updates in batches; a unit's own day goes into its series (its table entry lives in
the partition of the unit's key, as the decision did), is evaluated once per batch and
is passed on keyed by the nearest area above it; an area adds its children up per day,
is evaluated once per batch and passes its new totals on to the area above it
(``streams/roll_up.py``). Alerts are published and acknowledged before the series
records them (``streams/publish.py``); a crash in between sends the same alert ids
again, which the sink and the notifier drop. Levels are data: sent with the input's
commit, stored by the warehouse under their key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
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
from streams.compat.event_context import acting_for
from streams.dead_letters import DeadLetterHook
from streams.publish import publish_acked
from streams.roll_up import Update, evaluate
from streams.series import Rev
from streams.signals import Outcome, SignalEngine

log = logging.getLogger(__name__)

SUBJECTS = topics.SIGNAL_SUBJECTS
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
        settings.level_dataset,
    )


def is_area(registry: Registry, unit_id: str) -> bool:
    """Whether a unit's numbers are an area's: a district's or a province's."""
    unit = registry.get(unit_id)
    return unit is not None and unit.kind in _AREA_KINDS


def areas_above(registry: Registry, unit_id: str) -> list[str]:
    """The districts and provinces a unit's numbers roll up into, nearest first."""
    out: list[str] = []
    unit = registry.get(unit_id)
    while unit is not None and unit.parent_id is not None:
        unit = registry.get(unit.parent_id)
        if unit is not None and unit.kind in _AREA_KINDS:
            out.append(unit.unit_id)
    return out


#: Area updates handled together, at most, and the longest an update waits for others.
ROLL_UP_BATCH = 500
ROLL_UP_WITHIN_S = 0.5


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
    subjects, levels = declare(SUBJECTS), declare(topics.LEVELS)
    above: dict[str, str | None] = {}
    app.signals = engine  # type: ignore[attr-defined]  # exposed for tests and the bench

    async def after_accepted(report: ReportAccepted) -> None:
        """Hand the accepted report's kept values to the signal agent, with its commit.

        Nothing is evaluated here: the decision agent must keep up at 15:00, and a unit's
        evaluation waits for its alerts' acknowledgement (bench/burst.py).
        """
        if not engine.keys(report.dataset):
            return  # no rule reads this dataset
        values = engine.extract(report.dataset, report.values)
        rev = revision_of(report.revision, report.submitted_at, str(report.report_id))
        update = Update(report.unit_id, report.dataset, report.report_date, rev, values)
        await subjects.send(key=report.unit_id.encode(), value=update.to_json())

    async def pass_up(update: Update) -> None:
        """Send a unit's or an area's day to the nearest area above it, if there is one."""
        if update.child not in above:
            above[update.child] = next(iter(areas_above(registry, update.child)), None)
        parent = above[update.child]
        if parent is not None:
            await subjects.send(key=parent.encode(), value=update.to_json())

    @app.agent(subjects, name="roll_up_signals")
    async def roll_up_signals(stream: faust.StreamT[bytes]) -> None:
        """Evaluate each unit and area once per batch of its updates; pass days up.

        A unit's update comes from the decision agent, an area's from its children; taking
        them in batches evaluates an area once per batch instead of once per child, which
        is what keeps the worker up with a rush (bench/signal_cost.py). The batch's offsets
        are committed after it is handled (``take_events``).
        """
        assert isinstance(stream, faust.Stream)  # an agent's stream; StreamT lacks take_events
        async for batch in stream.take_events(ROLL_UP_BATCH, within=ROLL_UP_WITHIN_S):
            by_subject: dict[str, list[tuple[Any, Update]]] = {}
            for event in batch:
                try:
                    update = Update.from_json(event.value)
                    subject = event.key.decode()  # type: ignore[union-attr]
                    by_subject.setdefault(subject, []).append((event, update))
                except (AttributeError, ValueError, KeyError, TypeError) as exc:
                    reason = f"malformed signal update: {type(exc).__name__}: {exc}"
                    await dead_letter(event, reason)
            settled: list[tuple[Any, str, Outcome]] = []
            passed: list[tuple[Any, Update]] = []
            for subject, updates in by_subject.items():
                event = updates[-1][0]  # any of the subject's: its partition holds its state
                acting_for(event)
                rolled = evaluate(
                    engine,
                    subject,
                    is_area(registry, subject),
                    [u for _, u in updates],
                    contributions,
                    series,
                    clock.now(),
                )
                settled += [(event, key, outcome) for key, outcome in rolled.outcomes]
                passed += [(event, total) for total in rolled.totals]
            alerts_out = [a for _, _, o in settled for a in o.alerts]
            if alerts_out:  # acknowledged before any series records them as sent
                await publish_acked([(a.unit_id.encode(), a.to_json()) for a in alerts_out], alerts)
            for event, key, outcome in settled:
                acting_for(event)
                for level in outcome.levels:
                    await levels.send(key=level.unit_id.encode(), value=level.to_json())
                series[key] = outcome.series.to_json()
            for event, total in passed:
                acting_for(event)  # sent with the commit of the update it sums
                await pass_up(total)

    return after_accepted
