"""A batch of the signal agent: units' own days, and areas' days as their children's sums.

A unit's own day (an ``Update`` whose ``child`` is the unit it is keyed by) goes into the
unit's series as it is (``observe_own``) and is passed to the nearest area above it. A
district's or province's own day is one of its children instead (``evaluate``).

Areas roll up a level at a time: a unit's day goes to the nearest area above it (its
district, or its province for a district's own report), and an area that changed
passes its new day totals on to the area above it, as one child among the others.
A province so adds up a dozen districts once per batch, not hundreds of communes per
report.

Pure over two tables, the worker's Faust tables or a benchmark's dicts:
``contributions`` (``area|dataset|day`` -> child -> ``[rev, kept values]``) and
``series`` (``subject|dataset`` -> the engine's series JSON). Invariants: an area holds
each child's newest revision of a day (an equal one is applied again, so a batch read
again after a crash re-evaluates the same sums); an area's totals carry no revision
(``[]``) and each replaces the one before, as they arrive in order on the area's
partition; the area is re-evaluated once per dataset per batch, from the earliest day
that changed (``SignalEngine.observe_days``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from streams.series import Rev
from streams.signals import Outcome, SignalEngine


class Table(Protocol):
    """What the roll-up needs of a table (``streams.state.HotKeys``, or a dict with delete)."""

    def get(self, key: str) -> Any: ...

    def __setitem__(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Update:
    """A subject's kept values for a day (``signals.subjects``), keyed by the subject they
    are for: the unit itself (``child`` is that unit) or the nearest area above ``child``."""

    child: str
    dataset: str
    day: date
    rev: Rev
    values: dict[str, int]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "child": self.child,
                "dataset": self.dataset,
                "day": self.day.isoformat(),
                "rev": self.rev,
                "values": self.values,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Update:
        """Raises ValueError, KeyError, TypeError or AttributeError on a malformed update."""
        msg = json.loads(raw)
        return cls(
            child=str(msg["child"]),
            dataset=str(msg["dataset"]),
            day=date.fromisoformat(msg["day"]),
            rev=list(msg["rev"]),
            values={str(k): int(v) for k, v in msg["values"].items()},
        )


def area_total(children: Mapping[str, Any]) -> dict[str, int]:
    """An area's day: its children's kept values (``child -> [rev, values]``) added up."""
    total: dict[str, int] = {}
    for _, kept in children.values():
        for k, v in kept.items():
            total[k] = total.get(k, 0) + v
    return total


def newer(rev: Rev, held: Any) -> bool:
    """Whether ``rev`` replaces what an area holds for a child's day (an equal one does)."""
    return held is None or not rev < list(held[0])


def newest(updates: list[Update]) -> dict[tuple[str, date], dict[str, list[Any]]]:
    """Per (dataset, day): each child's newest ``[rev, values]`` among ``updates``."""
    out: dict[tuple[str, date], dict[str, list[Any]]] = {}
    for u in updates:
        children = out.setdefault((u.dataset, u.day), {})
        if newer(u.rev, children.get(u.child)):
            children[u.child] = [u.rev, u.values]
    return out


@dataclass
class Rolled:
    """What one batch changed in an area: its outcomes, and the totals to pass up."""

    #: (``area|dataset``, outcome) per dataset re-evaluated, for the caller to store
    outcomes: list[tuple[str, Outcome]]
    #: the area's new day totals, as a child of the area above it
    totals: list[Update]


def roll_up(
    engine: SignalEngine,
    area: str,
    updates: list[Update],
    contributions: Table,
    series: Table,
    now: datetime,
) -> Rolled:
    """Put the children's days into the area's; its outcomes and its new day totals.

    Writes ``contributions`` (and forgets the days the area's series no longer keeps);
    the caller stores each outcome's series once its alerts are acknowledged.
    """
    changed: dict[str, dict[date, tuple[Rev, dict[str, int]]]] = {}
    for (dataset, day), children in newest(updates).items():
        day_key = f"{area}|{dataset}|{day.isoformat()}"
        held: dict[str, Any] = dict(contributions.get(day_key) or {})
        fresh = {c: kept for c, kept in children.items() if newer(kept[0], held.get(c))}
        if not fresh:
            continue  # the area already holds newer revisions of every one
        held.update(fresh)
        contributions[day_key] = held
        changed.setdefault(dataset, {})[day] = ([], area_total(held))
    out = Rolled([], [])
    for dataset, days in changed.items():
        out.totals += [Update(area, dataset, d, [], total) for d, (_, total) in days.items()]
        key = f"{area}|{dataset}"
        stored = series.get(key)
        outcome = engine.observe_days(stored, area, dataset, days, now)
        if outcome is None:
            continue
        out.outcomes.append((key, outcome))
        kept_from = min(outcome.series.days)
        for gone in (stored or {}).get("d") or {}:
            if date.fromisoformat(gone) < kept_from:
                contributions.delete(f"{area}|{dataset}|{gone}")
    return out


def observe_own(
    engine: SignalEngine, unit: str, updates: list[Update], series: Table, now: datetime
) -> Rolled:
    """Put a unit's own days into its series; its outcomes and the days to pass up.

    Once per dataset per batch, from the earliest day that changed; a day the series did
    not take (an older revision, or a day too old to keep) is not passed up either.
    """
    out = Rolled([], [])
    by_dataset: dict[str, dict[date, tuple[Rev, dict[str, int]]]] = {}
    for (dataset, day), children in newest(updates).items():
        rev, values = children[unit]
        by_dataset.setdefault(dataset, {})[day] = (rev, values)
    for dataset, days in by_dataset.items():
        key = f"{unit}|{dataset}"
        outcome = engine.observe_days(series.get(key), unit, dataset, days, now)
        if outcome is None:
            continue
        out.outcomes.append((key, outcome))
        taken = outcome.series.days
        out.totals += [
            Update(unit, dataset, d, rev, values)
            for d, (rev, values) in days.items()
            if d in taken and list(taken[d][0]) == list(rev)
        ]
    return out


def evaluate(
    engine: SignalEngine,
    subject: str,
    is_area: bool,
    updates: list[Update],
    contributions: Table,
    series: Table,
    now: datetime,
) -> Rolled:
    """One subject's updates of a batch: a unit's own days, or an area's children's days.

    An area's own report (a district or a province reporting a dataset) counts as one of
    its children, so the area has one series per dataset: its own days plus its
    children's. A series of its own days apart would share the key ``<id>|<dataset>``,
    and the ids of its signals and levels, with the area's sum, and the two would
    overwrite each other once the area and its children report the same dataset
    (tests/streams/test_roll_up.py). ``streams.signal_seed.rebuild`` keeps the same rule.
    """
    if is_area:
        return roll_up(engine, subject, updates, contributions, series, now)
    return observe_own(engine, subject, updates, series, now)
