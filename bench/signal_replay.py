"""The worker's signal work in one process: each unit as accepted, then its areas per batch.

Mirrors ``streams/signal_watch.py`` without Faust or a broker, for the benchmarks that
time the engine itself: a unit's series is re-evaluated from its accepted report's day;
the batch's updates for the nearest area above go through the worker's own
``streams.roll_up.roll_up``, which re-evaluates the area once per batch on the sum of its
children and passes its totals on to the area above it. Series stay in the JSON form
the worker's table holds, so every evaluation parses and re-encodes them as the worker
does; what the table's changelog costs on top is Faust's, not timed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from contract.events import ReportAccepted
from streams.roll_up import Update, roll_up
from streams.series import Rev, Series
from streams.signal_watch import areas_above, is_area
from streams.signals import Outcome, SignalEngine

#: (unit, dataset, day, rev, kept values): one accepted report as the engine reads it
Kept = tuple[str, str, date, Rev, Mapping[str, int]]


class Store(dict[str, Any]):
    """A dict with the ``delete`` of the worker's tables (``streams.state.HotKeys``)."""

    def delete(self, key: str) -> None:
        self.pop(key, None)


@dataclass
class Replay:
    """Series and area contributions as the worker's two tables keep them."""

    engine: SignalEngine
    #: The worker's clock: it stamps each alert and level (``assessed_at``).
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    series: Store = field(default_factory=Store)
    #: ``area|dataset|day`` -> child -> [rev, kept values]: the ``signal_contributions`` table
    children: Store = field(default_factory=Store)
    _above: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.series = Store(self.series)

    def areas(self, unit_id: str) -> list[str]:
        """The districts and provinces above a unit, nearest first (cached, as the worker)."""
        if unit_id not in self._above:
            self._above[unit_id] = areas_above(self.engine.registry, unit_id)
        return self._above[unit_id]

    def kept(self, report: ReportAccepted) -> Kept | None:
        """What the engine keeps of an accepted report; None if no rule reads its dataset."""
        if not self.engine.keys(report.dataset):
            return None
        values = self.engine.extract(report.dataset, report.values)
        rev = [report.revision, report.submitted_at.isoformat(), str(report.report_id)]
        return report.unit_id, report.dataset, report.report_date, rev, values

    def accepted(self, reports: Iterable[ReportAccepted]) -> list[Outcome]:
        """What the worker does with ``reports`` read in one batch of the area topic."""
        return self.batch(k for r in reports if (k := self.kept(r)) is not None)

    def report(
        self, unit_id: str, dataset: str, day: date, rev: Rev, values: Mapping[str, int]
    ) -> list[Outcome]:
        """One unit-day's kept values alone in its batch: the unit, then its areas."""
        return self.batch([(unit_id, dataset, day, rev, values)])

    def batch(self, reports: Iterable[Kept]) -> list[Outcome]:
        """Each unit re-evaluated as accepted, then its areas once, a level at a time.

        The worker passes an area's totals up through the area topic, so the level above
        takes them in a later batch; here they follow at once.
        """
        out: list[Outcome] = []
        updates: dict[str, list[Update]] = {}
        for unit_id, dataset, day, rev, values in reports:
            if is_area(self.engine.registry, unit_id):  # one of its own children
                updates.setdefault(unit_id, []).append(
                    Update(unit_id, dataset, day, rev, dict(values))
                )
                continue
            outcome = self.observe(unit_id, dataset, day, rev, values)
            if outcome is None:
                continue
            out.append(outcome)
            self._pass_up(Update(unit_id, dataset, day, rev, dict(values)), updates)
        while updates:
            level, updates = updates, {}
            for area, ups in level.items():
                rolled = roll_up(self.engine, area, ups, self.children, self.series, self.now())
                for key, outcome in rolled.outcomes:
                    self.series[key] = outcome.series.to_json()
                    out.append(outcome)
                for total in rolled.totals:
                    self._pass_up(total, updates)
        return out

    def _pass_up(self, update: Update, updates: dict[str, list[Update]]) -> None:
        above = self.areas(update.child)
        if above:
            updates.setdefault(above[0], []).append(update)

    def observe(
        self, subject: str, dataset: str, day: date, rev: Rev, values: Mapping[str, int]
    ) -> Outcome | None:
        """The engine's ``observe`` on the stored series; the new series is stored."""
        key = f"{subject}|{dataset}"
        outcome = self.engine.observe(
            self.series.get(key), subject, dataset, day, rev, values, self.now()
        )
        if outcome is not None:
            self.series[key] = outcome.series.to_json()
        return outcome

    def seed(self, subject: str, dataset: str, day: date, values: Mapping[str, int]) -> None:
        """Put a day into a subject's series without evaluating it (history for a bench)."""
        key = f"{subject}|{dataset}"
        series = Series.from_json(self.series.get(key))
        series.put(day, [], values, self.engine.keep_days)
        self.series[key] = series.to_json()
