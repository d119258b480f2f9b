"""Deadline state per (dataset, date, expected unit) and the alerts it causes.

Pure functions over the ledger's view of who reported, so the whole decision is unit-
tested with a ManualClock; the Faust wiring (streams/watch.py) only feeds instants in
and sends alerts out. State is *derived* from (ledger entry, now, window), never stored:
the only thing worth remembering is which alerts already went out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from contract.datasets import Catalog, Dataset
from contract.events import Alert, ReportAccepted, ReportRejected, Timeliness
from contract.registry import Registry, Unit
from streams import messages as m


class UnitState(StrEnum):
    PENDING = "pending"
    DUE_SOON = "due_soon"
    MISSING = "missing"
    ON_TIME = "on_time"
    LATE = "late"


@dataclass(frozen=True)
class Reported:
    """What the ledger knows about a unit's first accepted report for a date."""

    first_submitted_at: datetime
    timeliness: Timeliness


@dataclass(frozen=True)
class Window:
    """One dataset and reporting date, with its reminder and deadline instants."""

    dataset: Dataset
    day: date
    deadline: datetime
    remind_at: datetime

    @classmethod
    def of(cls, dataset: Dataset, day: date, tz: ZoneInfo) -> Window:
        deadline = dataset.deadline_at(day, tz)
        return cls(
            dataset, day, deadline, deadline - timedelta(minutes=dataset.reminder_lead_minutes)
        )

    @property
    def key(self) -> str:
        return f"{self.dataset.code}|{self.day.isoformat()}"


@dataclass
class Partial:
    """One partition's count of a window at or after its deadline; summed for the summary."""

    dataset: str
    day: date
    partition: int
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "day": self.day.isoformat(),
            "partition": self.partition,
            "expected": self.expected,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Partial:
        return cls(
            data["dataset"],
            date.fromisoformat(data["day"]),
            int(data["partition"]),
            int(data["expected"]),
            int(data["on_time"]),
            int(data["late"]),
            list(data["missing"]),
        )


@dataclass
class Evaluation:
    """What one look at one partition found: alerts to send and partials to publish."""

    alerts: list[Alert] = field(default_factory=list)
    partials: list[Partial] = field(default_factory=list)


def alert_id(kind: str, dataset: str, scope: str, day: date) -> str:
    """The deterministic id notifiers and the warehouse use to drop repeats."""
    return f"{kind}:{dataset}:{scope}:{day.isoformat()}"


def ledger_key(unit_id: str, dataset: str, day: date) -> str:
    """The ledger table's key (the same as ReportSubmitted.ledger_key)."""
    return f"{unit_id}|{dataset}|{day.isoformat()}"


def state_of(reported: Reported | None, window: Window, now: datetime) -> UnitState:
    """Where one expected unit stands at ``now``."""
    if reported is not None:
        return UnitState.ON_TIME if reported.timeliness == "on_time" else UnitState.LATE
    if now >= window.deadline:
        return UnitState.MISSING
    if now >= window.remind_at:
        return UnitState.DUE_SOON
    return UnitState.PENDING


Lookup = Callable[[str], Reported | None]
Sent = Callable[[str], bool]


class DeadlineWatch:
    """Decide reminders, missing alerts (with escalation) and summaries for expected units."""

    def __init__(
        self,
        registry: Registry,
        catalog: Catalog,
        tz: ZoneInfo,
        hold: timedelta = timedelta(days=1),
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.tz = tz
        self.hold = hold
        self._expected: dict[tuple[str, date], list[Unit]] = {}

    def windows(self, now: datetime) -> list[Window]:
        """Windows to look at: reminder time reached, deadline not older than the hold."""
        today = now.astimezone(self.tz).date()
        out = []
        for ds in self.catalog.datasets:
            span = self.hold.days + ds.deadline_day_offset + 1
            for back in range(span, -1, -1):
                w = Window.of(ds, today - timedelta(days=back), self.tz)
                # A date after today is never expected, whatever its deadline says.
                if w.day <= today and w.remind_at <= now < w.deadline + self.hold:
                    out.append(w)
        return out

    def expected(self, dataset: str, day: date) -> list[Unit]:
        """Active units assigned ``dataset`` on ``day`` (cached: the registry is fixed)."""
        key = (dataset, day)
        if key not in self._expected:
            if len(self._expected) > 64:  # only a few days are ever live
                self._expected.clear()
            self._expected[key] = sorted(
                self.registry.expected(dataset, day), key=lambda u: u.unit_id
            )
        return self._expected[key]

    def evaluate(
        self,
        now: datetime,
        units: Callable[[Window], Iterable[Unit]],
        reported: Lookup,
        sent: Sent,
        partition: int = 0,
    ) -> Evaluation:
        """Look at every live window for the given units (one partition's share)."""
        result = Evaluation()
        for w in self.windows(now):
            partial = Partial(w.dataset.code, w.day, partition) if now >= w.deadline else None
            for unit in units(w):
                state = state_of(reported(ledger_key(unit.unit_id, w.dataset.code, w.day)), w, now)
                if partial is not None:
                    partial.expected += 1
                    if state is UnitState.ON_TIME:
                        partial.on_time += 1
                    elif state is UnitState.LATE:
                        partial.late += 1
                    else:
                        partial.missing.append(unit.unit_id)
                kind = {UnitState.DUE_SOON: "reminder", UnitState.MISSING: "missing"}.get(state)
                if kind is None or sent(alert_id(kind, w.dataset.code, unit.unit_id, w.day)):
                    continue
                if kind == "reminder":
                    result.alerts.append(m.reminder(unit, w.dataset, w.day, w.deadline, now))
                else:
                    parent = self._escalate_to(unit, w, reported)
                    result.alerts.append(m.missing(unit, w.dataset, w.day, w.deadline, now, parent))
            if partial is not None:
                result.partials.append(partial)
        return result

    def _escalate_to(self, unit: Unit, w: Window, reported: Lookup) -> Unit | None:
        """The parent to address when the unit also missed the previous day's deadline."""
        prev = w.day - timedelta(days=1)
        if not unit.is_active(prev) or w.dataset.code not in unit.datasets:
            return None
        before = reported(ledger_key(unit.unit_id, w.dataset.code, prev))
        if before is not None and before.timeliness == "on_time":
            return None
        parent = self.registry.get(unit.parent_id) if unit.parent_id else None
        return parent or unit  # a unit without a parent escalates to itself (still critical)

    def summarize(
        self, parts: dict[int, Partial], partitions: int, now: datetime, sent: Sent
    ) -> list[Alert]:
        """The collective summaries once every partition has counted the window.

        At the deadline: who has not reported. Later, when nobody is missing any more:
        that reporting is complete. A day complete by the deadline gets only the first.
        """
        if len(parts) < partitions:
            return []
        first = next(iter(parts.values()))
        ds = self.catalog.get(first.dataset)
        if ds is None:
            return []
        total = Partial(first.dataset, first.day, -1)
        for p in parts.values():
            total.expected += p.expected
            total.on_time += p.on_time
            total.late += p.late
            total.missing.extend(p.missing)
        total.missing.sort()
        if total.expected == 0:  # nobody must report this dataset that day: nothing to say
            return []
        at_deadline = alert_id("summary", ds.code, "deadline", total.day)
        complete = alert_id("summary", ds.code, "complete", total.day)
        names = [self._name(u) for u in total.missing]
        if not sent(at_deadline):
            alert = m.summary_deadline(ds, total, names, now, at_deadline)
            if not total.missing:  # complete already: the deadline summary says so
                alert.details["covers"] = [complete]
            return [alert]
        if not total.missing and not sent(complete):
            return [m.summary_complete(ds, total, now, complete)]
        return []

    def _name(self, unit_id: str) -> str:
        unit = self.registry.get(unit_id)
        return unit.name if unit else unit_id

    def after_accepted(self, report: ReportAccepted, now: datetime, sent: Sent) -> Alert | None:
        """A ``late`` alert for the first late revision of a unit's report, once."""
        ds = self.catalog.get(report.dataset)
        if report.timeliness != "late" or ds is None:
            return None
        if sent(alert_id("late", ds.code, report.unit_id, report.report_date)):
            return None
        return m.late(report, self.registry.get(report.unit_id), ds, now)

    def after_rejected(self, event: ReportRejected, now: datetime, sent: Sent) -> Alert | None:
        """A ``rejected`` alert, once per unit, dataset and date (details name the rules)."""
        try:
            day = date.fromisoformat(event.report_date or "")
        except ValueError:  # malformed submissions: file them under the day they came
            day = now.astimezone(self.tz).date()
        dataset = event.dataset if event.dataset and self.catalog.get(event.dataset) else "unknown"
        if sent(alert_id("rejected", dataset, event.unit_id or "unknown", day)):
            return None
        unit = self.registry.get(event.unit_id) if event.unit_id else None
        return m.rejected(event, unit, dataset, day, now)
