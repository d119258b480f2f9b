"""Simulate reporting days: plausible reports, late ones, corrections, re-sends, mistakes.

A trusted tool: it stamps ``submitted_at`` itself. Everything is derived from a seed,
so the same scenario yields the same report_ids, and it knows the totals the warehouse
must show, computed from its own plan (not from the pipeline's code).
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contract.datasets import Catalog, Dataset
from contract.events import ReportSubmitted
from contract.registry import Registry

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


@dataclass
class Scenario:
    reports: list[ReportSubmitted]
    expected: Expected


def _values(ds: Dataset, catalog: Catalog, rng: random.Random) -> dict[str, int]:
    """Counts that satisfy every rule of the built-in datasets."""
    if ds.code == "checkpoint-daily":
        screened = rng.randint(50, 3000)
        tests = rng.randint(0, screened)
        return {
            "people_screened": screened,
            "vehicles_screened": rng.randint(10, 900),
            "from_epidemic_areas": rng.randint(0, screened // 10),
            "sent_to_quarantine": rng.randint(0, 5),
            "tests_antigen": tests,
            "tests_antigen_positive": rng.randint(0, min(tests, 3)),
            "violations": rng.randint(0, 4),
        }
    # community, in-quarantine and unknown-source cases are disjoint parts of new cases
    community, quarantined, unknown = rng.randint(0, 5), rng.randint(0, 20), rng.randint(0, 2)
    cases = community + quarantined + unknown + rng.randint(0, 3)
    pcr = rng.randint(cases + 50, cases + 3000)
    values = {
        "cases_new": cases,
        "cases_community": community,
        "cases_quarantined": quarantined,
        "cases_unknown_source": unknown,
        "deaths": rng.randint(0, 1),
        "f1_new": rng.randint(0, 200),
        "home_isolation": rng.randint(0, 2000),
        "centralized_quarantine": rng.randint(0, 800),
        "f0_home_treatment": rng.randint(0, 50),
        "arrivals_monitored": rng.randint(0, 400),
        "tests_pcr": pcr,
        "tests_pcr_positive": cases,
        "tests_antigen": rng.randint(0, 5000),
        "tests_antigen_positive": 0,
    }
    metric = ds.metric("vaccine_dose1")
    if metric is not None:
        for dose in ("vaccine_dose1", "vaccine_dose2"):
            for option in catalog.options(metric):
                if rng.random() < 0.8:
                    values[f"{dose}.{option}"] = rng.randint(0, 4000)
    return values


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
) -> Scenario:
    """Plan every submission of the given days, in the order they reach the broker."""
    rng = random.Random(seed)
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
            reason=reason,
        )

    for day in days:
        for ds in catalog.datasets:
            deadline = ds.deadline_at(day, tz)
            for unit in registry.expected(ds.code, day):
                key = f"{unit.unit_id}|{ds.code}|{day.isoformat()}"
                if rng.random() < missing_share:
                    continue
                late = rng.random() < late_share
                offset = timedelta(minutes=rng.randint(1, 300))
                first_at = deadline + offset if late else deadline - offset
                values = _values(ds, catalog, rng)
                if rng.random() < invalid_share and ds.code == "district-daily":
                    bad = dict(values, tests_pcr_positive=values["tests_pcr"] + 1)
                    planned.append(
                        report(
                            ds, unit.unit_id, day, first_at - timedelta(minutes=1), bad, "invalid"
                        )
                    )
                    exp.rejected["pcr_positive_le_tests"] += 1
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
                    final = _values(ds, catalog, rng)
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
