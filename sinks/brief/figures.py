"""The brief's figures tables and chart series, from the day-by-day sums of ``queries.DAILY``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from contract.datasets import Catalog
from sinks.brief.model import Coverage, Figure, Series

CASES, CHECKPOINTS = "district-daily", "checkpoint-daily"
#: The day that stands for all days before the charts' window (``queries.BEFORE_WINDOW``).
BEFORE = date(1970, 1, 1)
HEADLINE = (
    "cases_new",
    "cases_community",
    "cases_quarantined",
    "cases_unknown_source",
    "deaths",
    "f1_new",
    "home_isolation",
    "centralized_quarantine",
    "f0_home_treatment",
)
DOSES = ("vaccine_dose1", "vaccine_dose2", "vaccine_booster")
#: Derived figures: (code, positives, tests, Vietnamese name, English name).
POSITIVITY = (
    (
        "pcr_positivity",
        "tests_pcr_positive",
        "tests_pcr",
        "Tỷ lệ dương tính RT-PCR (%)",
        "RT-PCR positivity (%)",
    ),
    (
        "antigen_positivity",
        "tests_antigen_positive",
        "tests_antigen",
        "Tỷ lệ dương tính test nhanh (%)",
        "Rapid antigen positivity (%)",
    ),
)
TESTING = (
    "tests_pcr",
    "tests_pcr_positive",
    "pcr_positivity",
    "tests_antigen",
    "tests_antigen_positive",
    "antigen_positivity",
)
#: The bands of "adults" (18 and over), the directives' 95 % target group.
ADULT_BANDS = ("age_18_49", "age_50_64", "age_65_plus")
WEEK = 7


class Daily:
    """Sums by dataset, day and key, with how many units reported each."""

    def __init__(
        self, rows: Iterable[Sequence[Any]], before: Iterable[Sequence[Any]], day: date
    ) -> None:
        self.day = day
        self.totals: dict[tuple[str, date], dict[str, int]] = {}
        self.units: dict[tuple[str, date], dict[str, int]] = {}
        for dataset, d, key, total, units in rows:
            self.totals.setdefault((dataset, d), {})[key] = int(total)
            self.units.setdefault((dataset, d), {})[key] = int(units)
        history = self.totals.setdefault((CASES, BEFORE), {})
        for key, total in before:  # a metric's options add up to its total
            metric, dot, _ = key.partition(".")
            history[key] = history.get(key, 0) + int(total)
            if dot:
                history[metric] = history.get(metric, 0) + int(total)

    def value(self, dataset: str, d: date, key: str) -> int | None:
        """The day's sum, None when no unit reported the key."""
        return self.totals.get((dataset, d), {}).get(key)

    def reporters(self, dataset: str, d: date, key: str) -> int:
        return self.units.get((dataset, d), {}).get(key, 0)

    def average(self, dataset: str, end: date, key: str) -> float | None:
        """Mean over the week ending ``end`` of the days that have the key."""
        seen = [v for d in _week(end) if (v := self.value(dataset, d, key)) is not None]
        return sum(seen) / len(seen) if seen else None

    def ratio(self, dataset: str, days: Iterable[date], top: str, bottom: str) -> float | None:
        """100 × Σ top / Σ bottom over ``days``; None without a denominator."""
        ups = downs = 0
        for d in days:
            t, b = self.value(dataset, d, top), self.value(dataset, d, bottom)
            if t is not None and b:
                ups, downs = ups + t, downs + b
        return 100.0 * ups / downs if downs else None

    def cumulative(self, dataset: str, key: str, end: date) -> int:
        """Everything reported for ``key`` up to ``end`` (the bucket before the window too)."""
        return sum(
            v
            for (ds, d), keys in self.totals.items()
            if ds == dataset and d <= end and (v := keys.get(key)) is not None
        )


def _week(end: date) -> list[date]:
    return [end - timedelta(days=n) for n in range(WEEK)]


def _names(catalog: Catalog, dataset: str, code: str) -> tuple[str, str]:
    for derived, _, _, vi, en in POSITIVITY:
        if code == derived:
            return vi, en
    ds = catalog.get(dataset)
    metric = ds.metric(code) if ds else None
    return (metric.name_vi, metric.name_en) if metric else (code, code)


def _figure(
    catalog: Catalog, daily: Daily, dataset: str, code: str, expected: Mapping[str, int]
) -> Figure:
    day, vi_en = daily.day, _names(catalog, dataset, code)
    for derived, top, bottom, _, _ in POSITIVITY:
        if code == derived:
            yesterday = day - timedelta(days=1)
            return Figure(
                code,
                *vi_en,
                dataset,
                today=daily.ratio(dataset, [day], top, bottom),
                yesterday=daily.ratio(dataset, [yesterday], top, bottom),
                avg_7d=daily.ratio(dataset, _week(day), top, bottom),
                reported=daily.reporters(dataset, day, bottom),
                expected=expected.get(dataset, 0),
                percent=True,
            )
    return Figure(
        code,
        *vi_en,
        dataset,
        today=daily.value(dataset, day, code),
        yesterday=daily.value(dataset, day - timedelta(days=1), code),
        avg_7d=daily.average(dataset, day, code),
        reported=daily.reporters(dataset, day, code),
        expected=expected.get(dataset, 0),
    )


def headline(catalog: Catalog, daily: Daily, expected: Mapping[str, int]) -> tuple[Figure, ...]:
    """New cases by source, deaths, F1, isolation and home treatment."""
    return tuple(_figure(catalog, daily, CASES, code, expected) for code in HEADLINE)


def testing(catalog: Catalog, daily: Daily, expected: Mapping[str, int]) -> tuple[Figure, ...]:
    """RT-PCR and antigen tests, positives and positivity."""
    return tuple(_figure(catalog, daily, CASES, code, expected) for code in TESTING)


def doses(catalog: Catalog, daily: Daily, expected: Mapping[str, int]) -> tuple[Figure, ...]:
    """The day's vaccine doses (all age bands)."""
    return tuple(_figure(catalog, daily, CASES, code, expected) for code in DOSES)


def checkpoints(catalog: Catalog, daily: Daily, expected: Mapping[str, int]) -> tuple[Figure, ...]:
    """Every metric of the checkpoints' dataset."""
    ds = catalog.get(CHECKPOINTS)
    codes = [m.code for m in ds.metrics] if ds else []
    return tuple(_figure(catalog, daily, CHECKPOINTS, code, expected) for code in codes)


def coverage(
    catalog: Catalog, daily: Daily, population: tuple[int | None, Mapping[str, int]]
) -> tuple[Coverage, ...]:
    """Cumulative doses by age band, then adults (18+) and all ages, against population."""
    total, bands = population
    ds = catalog.get(CASES)
    metric = ds.metric(DOSES[0]) if ds else None
    category = catalog.categories.get(metric.category or "") if metric else None
    options = [(o.code, o.name_vi, o.name_en) for o in category.options] if category else []

    def row(band: str, vi: str, en: str, keys: Sequence[str], people: int | None) -> Coverage:
        n = [
            sum(daily.cumulative(CASES, f"{m}.{k}" if k else m, daily.day) for k in keys)
            for m in DOSES
        ]
        return Coverage(band, vi, en, people, n[0], n[1], n[2])

    out = [row(code, vi, en, [code], bands.get(code)) for code, vi, en in options]
    adults = [b for b in ADULT_BANDS if b in {o[0] for o in options}]
    people = sum(bands[b] for b in adults) if all(b in bands for b in adults) else None
    out.append(row("adults", "Từ 18 tuổi", "18 and over", adults, people))
    out.append(row("all", "Tất cả", "All ages", [""], total))
    return tuple(out)


def series(daily: Daily, days: int) -> Series:
    """The charts' points: cases and their 7-day average, positivity, cumulative doses."""
    span = [daily.day - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return Series(
        days=tuple(span),
        cases_new=tuple(daily.value(CASES, d, "cases_new") for d in span),
        cases_community=tuple(daily.value(CASES, d, "cases_community") for d in span),
        cases_avg_7d=tuple(daily.average(CASES, d, "cases_new") for d in span),
        tests_pcr=tuple(daily.value(CASES, d, "tests_pcr") for d in span),
        positivity=tuple(daily.ratio(CASES, [d], "tests_pcr_positive", "tests_pcr") for d in span),
        dose1_cumulative=tuple(daily.cumulative(CASES, "vaccine_dose1", d) for d in span),
        dose2_cumulative=tuple(daily.cumulative(CASES, "vaccine_dose2", d) for d in span),
    )
