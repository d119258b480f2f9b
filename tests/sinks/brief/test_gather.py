"""The Thái Nguyên day's brief says what the scenario and the warehouse say."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from sinks.brief.model import Brief, Figure
from tests.sinks.brief import replay
from tests.sinks.brief.conftest import GENERATED_AT
from warehouse.client import Warehouse

PROVINCE_UNITS = "unit_id IN (SELECT unit_id FROM units_current WHERE province_id = '19')"


def figure(figures: tuple[Figure, ...], code: str) -> Figure:
    return next(f for f in figures if f.code == code)


def sums(wh: Warehouse, where: str, **params: Any) -> dict[tuple[str, str], int]:
    """Totals by dataset and metric of the province's latest revisions, from the view."""
    rows = wh.query_rows(
        "SELECT dataset, metric, sum(value) FROM report_values_latest"
        f" WHERE report_date = {{day:Date}} AND {PROVINCE_UNITS} AND {where}"
        " GROUP BY dataset, metric",
        params,
    )
    return {(ds, m): int(v) for ds, m, v in rows}


CASES = "district-daily"


def test_the_day_has_six_community_cases_in_phu_binh_new_after_38_quiet_days(brief: Brief) -> None:
    assert brief.area_name == "Tỉnh Thái Nguyên"
    assert figure(brief.headline, "cases_community").today == 6
    (place,) = brief.places
    assert (place.name, place.community, place.new_today) == ("Huyện Phú Bình", 6, True)
    assert "Tân Khánh" in place.note
    quiet = [s for s in brief.signals if s.rule == "quiet_days" and s.day == replay.DAY]
    assert {s.unit_name for s in quiet} == {"Huyện Phú Bình", "Tỉnh Thái Nguyên"}
    assert all("38 ngày" in s.message_vi and "38 days" in s.message_en for s in quiet)
    changed = {line.unit_name: (line.previous, line.today_daily) for line in brief.level_changes}
    assert changed["Tỉnh Thái Nguyên"] == (1, 2)
    assert changed["Huyện Phú Bình"] == (1, 2)
    assert brief.levels[0].unit_id == "19"  # the province first, then its districts


def test_figures_as_of_the_cutoff_and_with_the_late_report_equal_the_warehouse(
    warehouse: Warehouse, brief: Brief
) -> None:
    cutoff, now = brief.cutoff.astimezone(UTC), GENERATED_AT.astimezone(UTC)
    before = sums(warehouse, "submitted_at < {cut:DateTime64(3, 'UTC')}", day=brief.day,
                  cut=cutoff)  # fmt: skip
    for f in (*brief.headline, *brief.testing, *brief.checkpoints):
        if not f.percent and (f.dataset, f.code) in before:
            assert f.today == before[f.dataset, f.code], f.code
    yesterday = sums(warehouse, "submitted_at < {cut:DateTime64(3, 'UTC')}",
                     day=brief.day - timedelta(days=1), cut=cutoff)  # fmt: skip
    assert figure(brief.headline, "cases_new").yesterday == yesterday[CASES, "cases_new"]
    pcr = figure(brief.testing, "pcr_positivity")
    assert pcr.today == 100 * before[CASES, "tests_pcr_positive"] / before[CASES, "tests_pcr"]
    # The late report (18:06) is listed apart; with it the day's totals are the view's.
    after = sums(warehouse, "submitted_at <= {now:DateTime64(3, 'UTC')}", day=brief.day, now=now)
    assert brief.after_review["cases_new"] == after[CASES, "cases_new"]
    home = "home_isolation"
    assert brief.after_review[home] == after[CASES, home] > before[CASES, home]
    (late,) = brief.late_additions
    assert (late.name, late.correction) == ("Thành phố Phổ Yên", False)
    assert late.submitted_at.strftime("%H:%M") == "18:06"


def test_compliance_names_who_was_on_time_late_and_missing_as_the_views_do(
    warehouse: Warehouse, brief: Brief
) -> None:
    rows = warehouse.query_rows(
        "SELECT dataset, name, status FROM compliance_units"
        " WHERE report_date = {day:Date} AND province_id = '19'",
        {"day": brief.day},
    )
    assert rows
    view = {(ds, name): status for ds, name, status in rows}
    mine = {(c.dataset, u.name): u.status for c in brief.compliance for u in c.units}
    assert mine == view
    cases = brief.completeness["district-daily"]
    assert (cases.expected, cases.received, cases.late, cases.missing) == (9, 7, 1, 1)
    (missing,) = brief.compliance[0].named("missing")
    assert missing.name == "Thành phố Sông Công"
    assert figure(brief.headline, "cases_new").reported == cases.received


def test_vaccine_coverage_counts_every_dose_reported_before_the_cutoff(
    warehouse: Warehouse, brief: Brief
) -> None:
    # Every revision of earlier days came in before this cut-off: the view's values are
    # those the brief counts, less the day's late report.
    # Every revision of the days before came in before this cut-off: the view's values
    # are those the brief counts, less the day's late report.
    ((doses,),) = warehouse.query_rows(
        "SELECT sum(value) FROM report_values_latest WHERE metric = 'vaccine_dose2'"
        " AND option IN ('age_18_49', 'age_50_64', 'age_65_plus')"
        f" AND report_date <= {{day:Date}} AND {PROVINCE_UNITS}"
        " AND submitted_at < {cut:DateTime64(3, 'UTC')}",
        {"day": brief.day, "cut": brief.cutoff},
    )
    adults = brief.adults
    assert adults is not None and adults.dose2 == doses > 0
    assert adults.population == 612_494 + 205_878 + 99_079  # the demo population's bands
    assert brief.series.dose2_cumulative[-1] == next(c for c in brief.coverage
                                                     if c.band == "all").dose2  # fmt: skip


def test_signals_and_levels_are_the_warehouse_views(warehouse: Warehouse, brief: Brief) -> None:
    rows = warehouse.query_rows(
        "SELECT signal_id FROM signals_current WHERE state = 'active'"
        f" AND report_date BETWEEN {{start:Date}} AND {{day:Date}} AND {PROVINCE_UNITS}"
        " AND first_raised_at <= {now:DateTime64(3, 'UTC')}",
        {"start": brief.day - timedelta(days=6), "day": brief.day, "now": GENERATED_AT},
    )
    got = {(s.unit_id, s.rule, s.day) for s in brief.signals}
    assert got == {(sid.split(":")[2], sid.split(":")[1], _day(sid)) for (sid,) in rows}
    ((level,),) = warehouse.query_rows(
        "SELECT level FROM levels_latest WHERE unit_id = '19' AND level_date = {day:Date}"
        " AND period = 'day'",
        {"day": brief.day},
    )
    assert brief.levels[0].level == level == 2


def _day(signal_id: str) -> Any:
    from datetime import date

    return date.fromisoformat(signal_id.rsplit(":", 1)[1])


def test_the_national_roll_up_spans_the_whole_registry(national: Brief, brief: Brief) -> None:
    assert (national.province_id, national.area_name) == (None, "Toàn quốc")
    # Only Thái Nguyên reported in the replay: the nation's figures are its figures...
    for mine, theirs in zip(national.headline, brief.headline, strict=True):
        assert (mine.code, mine.today) == (theirs.code, theirs.today)
    # ...but every province's units are expected, and counted by province.
    cases = national.completeness["district-daily"]
    assert cases.expected > brief.completeness["district-daily"].expected
    areas = {a.name for a in national.compliance[0].areas}
    assert {"Tỉnh Thái Nguyên", "Tỉnh Bắc Giang", "Tỉnh Lạng Sơn"} <= areas
    assert {s.unit_id for s in national.signals} == {"19"}  # provinces' signals only


def test_coverage_is_measured_against_the_engines_population_and_says_it_is_estimated(
    national: Brief,
) -> None:
    # No population passed: the registry's figures with the shipped estimates, as the
    # signal engine uses them; their age bands are estimates and the brief says so.
    adults = national.adults
    assert adults is not None and adults.population and adults.percent(adults.dose2)
    assert national.population_estimated
