"""Simulate reporting days: plausible reports, late ones, corrections, re-sends, mistakes.

A trusted tool: it stamps ``submitted_at`` itself. Everything is derived from a seed,
so the same scenario yields the same report_ids, and it knows the totals the warehouse
must show, computed from its own plan (not from the pipeline's code). The values come
from ``EpidemicModel`` (outbreak curves, testing, vaccination, checkpoint traffic); who
reports late, not at all, wrongly or twice is decided here.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contract.datasets import Catalog, Dataset
from contract.events import ReportSubmitted
from contract.registry import Registry
from producers.epidemic import EpidemicModel

_NS = uuid.UUID("0e4c3f4e-3a8b-4d7e-9a51-7d0b1f2f6a10")


@dataclass
class Expected:
    """What the pipeline must end up with for a scenario."""

    totals: Counter[tuple[str, str]] = field(default_factory=Counter)  # (dataset, key) -> sum
    latest_revision: dict[str, int] = field(default_factory=dict)  # ledger key -> revision
    timeliness: dict[str, str] = field(default_factory=dict)  # ledger key -> on_time|late
    rejected: Counter[str] = field(default_factory=Counter)  # rule id -> count
    duplicates: int = 0
    accepted: int = 0
    invalid_report_ids: set[uuid.UUID] = field(default_factory=set)  # planned to be rejected


@dataclass
class Scenario:
    reports: list[ReportSubmitted]
    expected: Expected


def simulate(
    registry: Registry,
    catalog: Catalog,
    days: list[date],
    tz: ZoneInfo,
    seed: int = 7,
    late_share: float = 0.15,
    missing_share: float = 0.05,
    correction_share: float = 0.12,
    duplicate_share: float = 0.06,
    invalid_share: float = 0.06,
    *,
    model: EpidemicModel | None = None,
    on_day: Callable[[date], None] | None = None,
) -> Scenario:
    """Plan every submission of the given days, in the order they reach the broker.

    A unit-day a scenario pins (``model.pinned``) is always sent, and sent valid.
    """
    model = model or EpidemicModel(registry, catalog, seed)
    planned: list[ReportSubmitted] = []
    exp = Expected()

    def report(
        ds: Dataset,
        unit_id: str,
        day: date,
        at: datetime,
        values: dict[str, int],
        tag: str,
        reason: str = "",
    ) -> ReportSubmitted:
        rid = uuid.uuid5(_NS, f"{seed}/{ds.code}/{unit_id}/{day}/{tag}")
        return ReportSubmitted(
            report_id=rid,
            dataset=ds.code,
            unit_id=unit_id,
            report_date=day,
            submitted_at=at,
            submitted_by=f"sim:{unit_id}",
            values=values,
            note=model.note(unit_id, day),
            reason=reason,
        )

    for day in days:
        if on_day is not None:  # progress of long plans (a national registry, many days)
            on_day(day)
        # Drawn per day, not across the range: a day is planned the same whatever range
        # it is part of, so a demo that resumes mid-range re-sends exact duplicates.
        rng = random.Random(f"{seed}/{day.isoformat()}")
        for ds in catalog.datasets:
            deadline = ds.deadline_at(day, tz)
            for unit in registry.expected(ds.code, day):
                key = f"{unit.unit_id}|{ds.code}|{day.isoformat()}"
                pinned = model.pinned(unit.unit_id, day)
                if rng.random() < missing_share and not pinned:
                    continue
                late = rng.random() < late_share
                offset = timedelta(minutes=rng.randint(1, 300))
                first_at = deadline + offset if late else deadline - offset
                values = model.values(ds, unit, day)
                wrong = rng.random() < invalid_share and not pinned
                if wrong and "tests_pcr" in values and "tests_pcr_positive" in values:
                    bad = dict(values, tests_pcr_positive=values["tests_pcr"] + 1)
                    invalid = report(
                        ds, unit.unit_id, day, first_at - timedelta(minutes=1), bad, "invalid"
                    )
                    planned.append(invalid)
                    exp.rejected["pcr_positive_le_tests"] += 1
                    exp.invalid_report_ids.add(invalid.report_id)
                first = report(ds, unit.unit_id, day, first_at, values, "r1")
                planned.append(first)
                exp.accepted += 1
                final, revision = values, 1
                if rng.random() < duplicate_share:
                    planned.append(
                        first.model_copy(update={"submitted_at": first_at + timedelta(minutes=2)})
                    )
                    exp.duplicates += 1
                if rng.random() < correction_share:
                    at = first_at + timedelta(minutes=rng.randint(5, 240))
                    final = model.values(ds, unit, day, version=1)
                    # A correction may also withdraw a figure: absent downstream, not 0.
                    final.pop("violations" if ds.code == "checkpoint-daily" else "deaths", None)
                    reason = "Sửa số liệu sau rà soát" if at >= deadline else ""
                    planned.append(report(ds, unit.unit_id, day, at, final, "r2", reason))
                    exp.accepted += 1
                    revision = 2
                exp.latest_revision[key] = revision
                exp.timeliness[key] = "late" if late else "on_time"
                for k, v in final.items():
                    exp.totals[(ds.code, k)] += v
    planned.sort(key=lambda r: r.submitted_at)  # stable: a unit's order is preserved
    return Scenario(planned, exp)


def local_noon(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(12), tzinfo=tz)
