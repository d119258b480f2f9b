"""The simulator: plausible values, the planned mix of mistakes, and a plan that adds up."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from contract.validation import check_submission
from producers.epidemic import EpidemicModel
from producers.simulator import Scenario, simulate
from producers.vaccination import DOSES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BANDS = ["age_12_14", "age_15_17", "age_18_49", "age_50_64", "age_65_plus"]


def span(first: date, n: int) -> list[date]:
    return [first + timedelta(days=k) for k in range(n)]


@pytest.fixture(scope="module")
def plan(registry: Registry, catalog: Catalog) -> Scenario:
    # Mid-2021: outbreaks, checkpoints and vaccination are all running.
    return simulate(registry, catalog, span(date(2021, 7, 20), 8), TZ, seed=11)


def test_same_seed_same_reports_other_seed_other_reports(
    registry: Registry, catalog: Catalog, plan: Scenario
) -> None:
    again = simulate(registry, catalog, span(date(2021, 7, 20), 8), TZ, seed=11)
    assert [r.to_json() for r in again.reports] == [r.to_json() for r in plan.reports]
    other = simulate(registry, catalog, span(date(2021, 7, 20), 8), TZ, seed=12)
    assert {r.report_id for r in other.reports}.isdisjoint({r.report_id for r in plan.reports})
    assert [r.values for r in other.reports] != [r.values for r in plan.reports]


def test_a_unit_day_has_the_same_values_in_any_date_range(
    registry: Registry, catalog: Catalog
) -> None:
    model = EpidemicModel(registry, catalog, seed=5)
    unit, ds = registry.get("173"), catalog.get("district-daily")
    assert unit is not None and ds is not None
    alone = model.values(ds, unit, date(2021, 7, 27))
    fresh = EpidemicModel(registry, catalog, seed=5)
    for day in span(date(2021, 7, 1), 27):  # a longer run that reaches the same day
        fresh.values(ds, unit, day)
    assert fresh.values(ds, unit, date(2021, 7, 27)) == alone


def test_a_day_is_planned_the_same_in_any_date_range(registry: Registry, catalog: Catalog) -> None:
    """`baocao up` resumes its live demo mid-range: the day it replays must be re-sent
    byte for byte (duplicates), not as new reports or conflicting re-sends."""
    day = date(2021, 7, 26)
    long = simulate(registry, catalog, span(date(2021, 7, 20), 8), TZ, seed=11)
    short = simulate(registry, catalog, span(day, 2), TZ, seed=11)

    def of_day(plan: Scenario) -> list[bytes]:
        return [r.to_json() for r in plan.reports if r.report_date == day]

    assert of_day(long) and of_day(short) == of_day(long)


def test_every_report_passes_validation_except_the_planned_invalid_ones(
    registry: Registry, catalog: Catalog, plan: Scenario
) -> None:
    invalid = plan.expected.invalid_report_ids
    assert len(invalid) == sum(plan.expected.rejected.values()) > 0
    for report in plan.reports:
        verdict = check_submission(report, registry, catalog, TZ)
        if report.report_id in invalid:
            assert [e.code for e in verdict.errors] == ["pcr_positive_le_tests"]
        else:
            # Not even a warning: realistic values keep every rule of the datasets.
            assert verdict.errors == verdict.warnings == [], (report.unit_id, report.values)


def test_the_plan_adds_up_to_what_the_reports_say(plan: Scenario) -> None:
    """Expected totals, revisions and timeliness follow from the reports themselves."""
    exp = plan.expected
    seen: set[object] = set()
    latest: dict[str, ReportSubmitted] = {}
    revisions: Counter[str] = Counter()
    for r in plan.reports:  # in broker order
        if r.report_id in exp.invalid_report_ids or r.report_id in seen:
            continue
        seen.add(r.report_id)
        revisions[r.ledger_key] += 1
        latest[r.ledger_key] = r
    assert len(seen) == exp.accepted
    assert dict(revisions) == exp.latest_revision
    totals: Counter[tuple[str, str]] = Counter()
    for r in latest.values():
        for key, value in r.values.items():
            totals[(r.dataset, key)] += value
    assert totals == exp.totals
    assert len(plan.reports) == exp.accepted + exp.duplicates + len(exp.invalid_report_ids)


def test_cases_split_and_testing_are_plausible(plan: Scenario) -> None:
    sums: Counter[str] = Counter()
    for r in plan.reports:
        if r.dataset == "district-daily" and r.report_id not in plan.expected.invalid_report_ids:
            v = r.values
            parts = v["cases_community"] + v["cases_quarantined"] + v["cases_unknown_source"]
            assert parts == v["cases_new"]
            sums.update(v)
    assert sums["cases_new"] > 0 and sums["f1_new"] > sums["cases_new"]
    # RT-PCR positivity of a few percent at most; contacts traced per case.
    assert 0.001 < sums["tests_pcr_positive"] / sums["tests_pcr"] < 0.1
    assert sums["tests_antigen_positive"] < sums["tests_antigen"] * 0.05


def test_the_planned_mix_of_late_missing_corrected_and_resent_reports(
    registry: Registry, plan: Scenario
) -> None:
    exp = plan.expected
    expected_unit_days = sum(
        len(registry.expected(ds, day))
        for ds in ("district-daily", "checkpoint-daily")
        for day in span(date(2021, 7, 20), 8)
    )
    reported = len(exp.latest_revision)
    assert 0.85 * expected_unit_days < reported < expected_unit_days  # some are missing
    late = Counter(exp.timeliness.values())["late"]
    assert 0.05 * reported < late < 0.3 * reported
    corrected = sum(1 for rev in exp.latest_revision.values() if rev == 2)
    assert 0.04 * reported < corrected < 0.25 * reported
    assert exp.duplicates > 0


def test_vaccination_climbs_to_the_target_and_never_beyond_the_population(
    registry: Registry, catalog: Catalog
) -> None:
    model = EpidemicModel(registry, catalog, seed=3)
    unit, ds = registry.get("173"), catalog.get("district-daily")
    assert unit is not None and ds is not None
    population = model.population(unit)
    cumulative = {(dose, band): 0 for dose in DOSES for band in BANDS}
    for day in span(date(2021, 3, 1), 500):
        values = model.values(ds, unit, day)
        for (dose, band), total in cumulative.items():
            doses = values.get(f"{dose}.{band}", 0)
            assert doses >= 0
            cumulative[(dose, band)] = total + doses
        for band in BANDS:
            one, two, booster = (cumulative[(dose, band)] for dose in DOSES)
            assert booster <= two <= one
        assert sum(cumulative[("vaccine_dose1", band)] for band in BANDS) <= population
    bands = model.bands(unit)
    for band in BANDS:
        assert cumulative[("vaccine_dose1", band)] <= bands[band]
    adults = BANDS[1:]  # the directives' target: 95% of people 15 and over, two doses
    covered = sum(cumulative[("vaccine_dose2", band)] for band in adults)
    assert covered >= 0.95 * sum(bands[band] for band in adults)


def test_before_the_campaign_no_dose_is_reported(registry: Registry, catalog: Catalog) -> None:
    model = EpidemicModel(registry, catalog, seed=3)
    unit, ds = registry.get("173"), catalog.get("district-daily")
    assert unit is not None and ds is not None
    assert not any(k.startswith("vaccine") for k in model.values(ds, unit, date(2020, 8, 10)))
    assert "vaccine_dose1.age_12_14" not in model.values(ds, unit, date(2021, 7, 27))
