"""Epidemic level profiles: band edges, coverage, effective dates, texts and bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.levels import LEVEL_NAMES, LevelInputs, LevelProfiles, Profile
from contract.population import ConfigFileError, Population

MILLION = 1_000_000  # with a million people, 199 cases a week is 19.9 per 100,000
AGES = {"age_18_49": 500_000, "age_50_64": 150_000, "age_65_plus": 100_000}
PEOPLE = Population(MILLION, {"age_0_11": 200_000, "age_12_14": 50_000, **AGES}, False, "t")


@pytest.fixture(scope="module")
def profiles() -> LevelProfiles:
    return LevelProfiles.load()


def coverage(dose1_pct: float, full65_pct: float) -> dict[str, int]:
    """Cumulative doses giving these shares of people 18+ (one dose) and 65+ (two)."""
    dose1 = {f"vaccine_dose1.{band}": round(n * dose1_pct / 100) for band, n in AGES.items()}
    return {**dose1, "vaccine_dose2.age_65_plus": round(100_000 * full65_pct / 100)}


def qd4800(rate: float, dose1: float = 60, full65: float = 60, **extra: object) -> LevelInputs:
    sums = {"cases_community_7d": round(rate * 10)}
    return LevelInputs(PEOPLE, sums, coverage(dose1, full65), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rate", "low", "high"),
    [(0, 1, 1), (19.9, 1, 1), (20, 2, 1), (49.9, 2, 1), (50, 3, 2), (149.9, 3, 2), (150, 4, 3)],
)
def test_4800_band_edges_with_low_and_high_coverage(
    profiles: LevelProfiles, rate: float, low: int, high: int
) -> None:
    profile = profiles.get("qd-4800")
    assert profile.assess(qd4800(rate)).level == low
    assert profile.assess(qd4800(rate, dose1=70, full65=80)).level == high


@pytest.mark.parametrize(
    ("dose1", "full65", "level"), [(69.9, 90, 2), (70, 79.9, 2), (70, 80, 1), (95, 95, 1)]
)
def test_4800_coverage_needs_both_targets(
    profiles: LevelProfiles, dose1: float, full65: float, level: int
) -> None:
    assert profiles.get("qd-4800").assess(qd4800(30, dose1, full65)).level == level


def test_4800_explains_in_vietnamese_and_english(profiles: LevelProfiles) -> None:
    result = profiles.get("qd-4800").assess(qd4800(28.4, dose1=61, full65=85))
    assert result.level == 2
    assert result.criteria["cases_per_100k_week"] == pytest.approx(28.4)
    assert result.criteria["dose1_18_plus_pct"] == pytest.approx(61)
    assert "28,4 ca mắc mới tại cộng đồng/100.000 dân/tuần" in result.why_vi
    assert "61 % người từ 18 tuổi trở lên đã tiêm ít nhất 1 mũi" in result.why_vi
    assert "28.4 new community cases per 100,000 per week" in result.why_en
    assert "61% of people aged 18+" in result.why_en
    assert "tiêu chí 3 (khả năng thu dung, điều trị): không có trong dữ liệu" in result.why_vi
    assert "dưới 20 ca mắc mới tại cộng đồng/100.000 dân/tuần → cấp 1" in result.next_vi
    assert "từ 70 % người từ 18 tuổi trở lên đã tiêm ít nhất 1 mũi → cấp 1" in result.next_vi
    assert "từ 50 ca mắc mới tại cộng đồng/100.000 dân/tuần → cấp 3" in result.next_vi
    assert "below 20 new community cases per 100,000 per week → level 1" in result.next_en
    assert result.unconfirmed == ["matrix:c1_2_low"]


def test_a_value_just_under_an_edge_is_never_shown_as_the_edge(profiles: LevelProfiles) -> None:
    population = Population(10_000_000, {}, False, "t")
    result = profiles.get("qd-4800").assess(
        LevelInputs(population, {"cases_community_7d": 1996})  # 19.96 per 100,000
    )
    assert result.level == 1
    assert "19,96 ca" in result.why_vi and "19.96 new" in result.why_en


def test_coverage_without_doses_is_taken_as_low_and_said_so(profiles: LevelProfiles) -> None:
    result = profiles.get("qd-4800").assess(LevelInputs(PEOPLE, {"cases_community_7d": 300}))
    assert result.level == 2
    assert result.criteria["dose1_18_plus_pct"] is None
    assert "tạm coi là dưới 70 % người từ 18 tuổi" in result.why_vi
    assert "taken as below 70% of people aged 18+" in result.why_en


def test_no_population_means_no_level_and_says_what_is_needed(profiles: LevelProfiles) -> None:
    result = profiles.get("qd-4800").assess(LevelInputs(None, {"cases_community_7d": 12}))
    assert result.level is None
    assert result.criteria["cases_per_100k_week"] is None
    assert "chưa có số dân của đơn vị" in result.why_vi
    assert "no population figure" in result.why_en
    assert "số dân của đơn vị (tệp dân số)" in result.next_vi
    # No case at all is a rate of 0 whatever the population.
    assert profiles.get("qd-4800").assess(LevelInputs(None, {"cases_community_7d": 0})).level == 1


def test_days_without_reports(profiles: LevelProfiles) -> None:
    profile = profiles.get("qd-4800")
    silent = profile.assess(qd4800(30, days_reported={7: 0}))
    assert silent.level is None and "không có báo cáo nào trong 7 ngày" in silent.why_vi
    partial = profile.assess(qd4800(30, days_reported={7: 5}))
    assert partial.level == 2 and "(báo cáo 5/7 ngày)" in partial.why_vi
    assert "(reports on 5 of 7 days)" in partial.why_en


@pytest.mark.parametrize(("met", "level"), [(False, 3), (True, 2), (None, 2)])
def test_4800_treatment_capacity_keeps_a_level_from_dropping(
    profiles: LevelProfiles, met: bool | None, level: int
) -> None:
    flags = {} if met is None else {"treatment_capacity_ok": met}
    result = profiles.get("qd-4800").assess(qd4800(30, previous_level=3, flags=flags))
    assert result.level == level
    if met is False:
        assert "giữ cấp 3" in result.why_vi and "stays at level 3" in result.why_en
        assert "tiêu chí 3 (khả năng thu dung, điều trị) đạt → cấp 2" in result.next_vi
    # Rising is never held back.
    assert profiles.get("qd-4800").assess(qd4800(200, previous_level=1, flags=flags)).level == 4


def qd2686(community: int, unknown: int = 0) -> LevelInputs:
    sums = {"cases_community_14d": community, "cases_unknown_source_14d": unknown}
    return LevelInputs(PEOPLE, sums)


@pytest.mark.parametrize(
    ("community", "unknown", "level"),
    [(0, 0, 1), (1, 0, 2), (99, 0, 2), (100, 0, 3), (5, 1, 3), (99, 1, 3), (100, 1, 4)],
)
def test_2686_zones_over_14_days(
    profiles: LevelProfiles, community: int, unknown: int, level: int
) -> None:
    assert profiles.get("qd-2686").assess(qd2686(community, unknown)).level == level


def test_2686_new_normal_is_confirmed_and_the_rest_is_not(profiles: LevelProfiles) -> None:
    profile = profiles.get("qd-2686")
    quiet = profile.assess(qd2686(0))
    assert quiet.unconfirmed == []
    assert "0 ca mắc tại cộng đồng trong 14 ngày" in quiet.why_vi
    assert profile.level_name(1) == ("Bình thường mới", "New normal")
    risk = profile.assess(qd2686(6))
    assert risk.unconfirmed == ["matrix:risk"]
    assert "0 ca mắc tại cộng đồng trong 14 ngày → cấp 1" in risk.next_vi
    assert "1 or more cases of unknown source in 14 days → level 3" in risk.next_en
    high = profile.assess(qd2686(100, 1))
    assert set(high.unconfirmed) == {
        "unknown_source_14d",
        "community_per_100k_14d",
        "matrix:very_high",
    }


def qd218(cases: float, deaths: float, full_pct: float = 50) -> LevelInputs:
    doses = {"vaccine_dose2.age_18_49": round(MILLION * full_pct / 100)}  # share of everyone
    sums = {"cases_new_7d": round(cases * 10), "deaths_7d": round(deaths * 10)}
    return LevelInputs(PEOPLE, sums, doses)


@pytest.mark.parametrize(
    ("cases", "deaths", "level"),
    [
        (19.9, 0.9, 1), (20, 0, 2), (49.9, 0, 2), (50, 0, 3), (149.9, 0, 3), (150, 0, 4),
        (0, 1, 2), (0, 1.9, 2), (0, 2, 3), (0, 4.9, 3), (0, 5, 4), (60, 1, 3),
    ],
)  # fmt: skip
def test_218_the_worse_of_cases_and_deaths_sets_the_band(
    profiles: LevelProfiles, cases: float, deaths: float, level: int
) -> None:
    assert profiles.get("qd-218").assess(qd218(cases, deaths)).level == level


@pytest.mark.parametrize(("full_pct", "level"), [(74.9, 3), (75, 2)])
def test_218_full_vaccination_of_75_percent_lowers_the_level(
    profiles: LevelProfiles, full_pct: float, level: int
) -> None:
    assert profiles.get("qd-218").assess(qd218(60, 0, full_pct)).level == level


def test_218_says_oxygen_is_not_in_the_data(profiles: LevelProfiles) -> None:
    result = profiles.get("qd-218").assess(qd218(30, 0))
    assert result.criteria["oxygen_per_100k_week"] is None
    assert "số ca phải thở oxy/100.000 dân/tuần: không có trong bộ dữ liệu" in result.why_vi
    assert "patients needing oxygen per 100,000 per week: not in the dataset" in result.why_en
    assert {"cases_per_100k_week", "matrix:band2_low"} <= set(result.unconfirmed)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2021, 5, 30), None),
        (date(2021, 5, 31), "qd-2686"),
        (date(2021, 10, 11), "qd-2686"),
        (date(2021, 10, 12), "qd-4800"),
        (date(2022, 1, 26), "qd-4800"),
        (date(2022, 1, 27), "qd-218"),
        (date(2023, 6, 1), "qd-218"),
    ],
)
def test_effective_dates_pick_the_profile(
    profiles: LevelProfiles, day: date, expected: str | None
) -> None:
    found = profiles.for_day(day)
    assert (found.id if found else None) == expected


def test_an_explicit_profile_wins_only_while_in_force(profiles: LevelProfiles) -> None:
    assert profiles.for_day(date(2021, 10, 20), "qd-2686").id == "qd-4800"  # type: ignore[union-attr]
    assert profiles.for_day(date(2021, 9, 1), "qd-2686").id == "qd-2686"  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="qd-9999"):
        profiles.for_day(date(2021, 9, 1), "qd-9999")


def test_shipped_profiles_cite_sources_and_read_real_metrics(profiles: LevelProfiles) -> None:
    catalog = Catalog.load()
    dataset = catalog.get("district-daily")
    assert dataset is not None
    for profile, number in zip(profiles, ["2686", "4800", "218"], strict=True):
        assert f"{number}/QĐ-" in profile.source
        keys = [*(m for m, _ in profile.sums_needed()), *profile.cumulative_needed()]
        assert keys and all(catalog.key_problem(dataset, k) is None for k in keys)
    assert profiles.get("qd-4800").sums_needed() == {("cases_community", 7)}
    assert LEVEL_NAMES[4] == ("Cấp 4 – Nguy cơ rất cao (đỏ)", "Level 4 – very high risk (red)")


PLAN = """\
[[profiles]]
id = "tn-ke-hoach"
name_vi = "Kế hoạch cấp độ dịch tỉnh Thái Nguyên"
name_en = "Thái Nguyên's own level plan"
source = "Kế hoạch của UBND tỉnh Thái Nguyên (ví dụ kiểm thử)"
effective_from = 2021-11-01
effective_to = 2022-01-26

[[profiles.criteria]]
name = "cases_per_100k_week"
label_vi = "số ca/100.000 dân/tuần"
label_en = "cases per 100,000 per week"
text_vi = "{value} ca/100.000 dân/tuần"
text_en = "{value} cases per 100,000 per week"
sum = "cases_community"
days = 7
scale = 100000
edges = [10, 30, 100]

[[profiles.cells]]
id = "b1"
level = 1
when = { cases_per_100k_week = [1] }

[[profiles.cells]]
id = "b2"
level = 2
when = { cases_per_100k_week = [2] }

[[profiles.cells]]
id = "b3"
level = 3
when = { cases_per_100k_week = [3] }

[[profiles.cells]]
id = "b4"
level = 4
when = { cases_per_100k_week = [4] }
"""


def test_a_province_adds_its_own_plan(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.toml"
    path.write_text(PLAN, encoding="utf-8")
    profiles = LevelProfiles.load(path)
    assert [p.id for p in profiles] == ["qd-2686", "qd-4800", "qd-218", "tn-ke-hoach"]
    plan = profiles.for_day(date(2021, 11, 5))
    assert plan is not None and plan.id == "tn-ke-hoach"  # adopted after 4800
    assert plan.assess(qd4800(10)).level == 2 and plan.assess(qd4800(10)).unconfirmed == []
    assert profiles.get("qd-4800").assess(qd4800(10)).level == 1
    assert profiles.for_day(date(2021, 10, 20)).id == "qd-4800"  # type: ignore[union-attr]
    assert profiles.for_day(date(2021, 11, 5), "qd-4800").id == "qd-4800"  # type: ignore[union-attr]
    assert profiles.for_day(date(2022, 2, 1)).id == "qd-218"  # type: ignore[union-attr]


def _load_bad(tmp_path: Path, text: str) -> ConfigFileError:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        LevelProfiles.load(path)
    assert str(path) in str(caught.value) and "dòng" in str(caught.value)
    return caught.value


def test_a_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    error = _load_bad(tmp_path, PLAN.replace("edges = [10, 30, 100]", "edges = [10, 30,, 100]"))
    assert error.line == PLAN.splitlines().index("edges = [10, 30, 100]") + 1
    assert error.column > 1
    assert "sai cú pháp TOML" in error.message_vi and "invalid TOML" in error.message_en


def test_a_bad_value_names_its_line_and_the_profile(tmp_path: Path) -> None:
    error = _load_bad(tmp_path, PLAN.replace("days = 7", "days = 0"))
    assert (error.line, error.column) == (PLAN.splitlines().index("days = 7") + 1, 1)
    assert "tn-ke-hoach" in str(error) and "cases_per_100k_week" in str(error)
    assert "days" in error.message_en


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("edges = [10, 30, 100]", "edges = [30, 10, 100]", "increase strictly"),
        ('id = "b4"\nlevel = 4\n', 'id = "b4"\nlevel = 4\nwhen_any = { deaths = [1] }\n',
         "no measurable criterion 'deaths'"),
        ("when = { cases_per_100k_week = [4] }", "when = { cases_per_100k_week = [5] }", "1..4"),
        ("when = { cases_per_100k_week = [3] }", "when = { cases_per_100k_week = [2] }",
         "no cell gives a level"),
    ],
)  # fmt: skip
def test_an_inconsistent_profile_is_refused(tmp_path: Path, old: str, new: str, words: str) -> None:
    assert old in PLAN
    error = _load_bad(tmp_path, PLAN.replace(old, new))
    assert words in str(error)


def test_a_profile_defined_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.toml"
    path.write_text(PLAN.replace('id = "tn-ke-hoach"', 'id = "qd-4800"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"qd-4800.*hai lần.*defined twice"):
        LevelProfiles.load(path)


def test_a_profile_reads_what_it_declares(profiles: LevelProfiles) -> None:
    profile: Profile = profiles.get("qd-218")
    assert profile.sums_needed() == {("cases_new", 7), ("deaths", 7)}
    assert "vaccine_dose2.age_65_plus" in profile.cumulative_needed()
