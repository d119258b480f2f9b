"""The worker's signal work in one process: a unit's day, then each area's above it.

Mirrors ``streams/signal_watch.py`` without Faust or a broker, for the benchmarks that
time the engine itself: a unit's series is re-evaluated from its accepted report's day,
then each area above it (district, province) replaces that child's values for the day
with the newest revision and is re-evaluated on the sum of its children. Series stay in
the JSON form the worker's table holds, so every ``observe`` parses and re-encodes them
as the worker does; what the table's changelog costs on top is Faust's, not timed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from contract.events import ReportAccepted
from streams.series import Rev, Series
from streams.signal_watch import areas_above
from streams.signals import Outcome, SignalEngine


@dataclass
class Replay:
    """Series and area contributions as the worker's two tables keep them."""

    engine: SignalEngine
    #: The worker's clock: it stamps each alert and level (``assessed_at``).
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (area, dataset, day) -> child -> (rev, kept values): the ``signal_contributions`` table
    children: dict[tuple[str, str, date], dict[str, tuple[Rev, dict[str, int]]]] = field(
        default_factory=dict
    )
    _above: dict[str, list[str]] = field(default_factory=dict)

    def areas(self, unit_id: str) -> list[str]:
        """The districts and provinces above a unit, nearest first (cached, as the worker)."""
        if unit_id not in self._above:
            self._above[unit_id] = areas_above(self.engine.registry, unit_id)
        return self._above[unit_id]

    def accepted(self, report: ReportAccepted) -> list[Outcome]:
        """What the worker does after accepting ``report``: its unit, then its areas."""
        if not self.engine.keys(report.dataset):
            return []
        values = self.engine.extract(report.dataset, report.values)
        rev = [report.revision, report.submitted_at.isoformat(), str(report.report_id)]
        return self.report(report.unit_id, report.dataset, report.report_date, rev, values)

    def report(
        self, unit_id: str, dataset: str, day: date, rev: Rev, values: Mapping[str, int]
    ) -> list[Outcome]:
        """One unit-day's kept values: re-evaluate the unit, then every area above it."""
        outcome = self.observe(unit_id, dataset, day, rev, values)
        if outcome is None:
            return []
        out = [outcome]
        for area in self.areas(unit_id):
            total = self.contribute(area, unit_id, dataset, day, rev, values)
            rolled = None if total is None else self.observe(area, dataset, day, [], total)
            if rolled is not None:
                out.append(rolled)
        return out

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

    def contribute(
        self, area: str, child: str, dataset: str, day: date, rev: Rev, values: Mapping[str, int]
    ) -> dict[str, int] | None:
        """Put a child's day into its area's day; the area's new total, None if stale."""
        kids = self.children.setdefault((area, dataset, day), {})
        old = kids.get(child)
        if old is not None and rev < old[0]:
            return None  # the area already holds a newer revision of this child's day
        kids[child] = (rev, dict(values))
        total: dict[str, int] = {}
        for _, kept in kids.values():
            for k, v in kept.items():
                total[k] = total.get(k, 0) + v
        return total

    def seed(self, subject: str, dataset: str, day: date, values: Mapping[str, int]) -> None:
        """Put a day into a subject's series without evaluating it (history for a bench)."""
        key = f"{subject}|{dataset}"
        series = Series.from_json(self.series.get(key))
        series.put(day, [], values, self.engine.keep_days)
        self.series[key] = series.to_json()
