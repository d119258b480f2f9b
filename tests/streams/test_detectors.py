"""Signal detectors: quiet days, unknown source, EARS C2, and how findings read.

The EWMA numbers are in tests/streams/test_ewma.py.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from contract.signal_config import SignalConfig
from streams.detectors import Finding, History, Subject, evaluate

PHU_BINH = Subject("173", "Huyện Phú Bình", "district")
THAI_NGUYEN = Subject("19", "Tỉnh Thái Nguyên", "province")
LAST_CASE = date(2021, 6, 18)  # Thái Nguyên's last community case before the outbreak
OUTBREAK = date(2021, 7, 27)  # six community cases in Tân Khánh, Phú Bình


@pytest.fixture(scope="module")
def config() -> SignalConfig:
    return SignalConfig.load()


def _days(start: date, end: date, **values: int) -> dict[date, dict[str, int]]:
    """Every day from ``start`` to ``end`` (inclusive) reported with the same values."""
    return {start + timedelta(k): dict(values) for k in range((end - start).days + 1)}


def _find(
    config: SignalConfig, history: History, day: date, rule: str, subject: Subject = PHU_BINH
) -> Finding | None:
    found = [f for f in evaluate(config, "district-daily", subject, history, day) if f.rule == rule]
    assert len(found) <= 1
    return found[0] if found else None


def _thai_nguyen() -> dict[date, dict[str, int]]:
    days = _days(date(2021, 6, 1), OUTBREAK - timedelta(1), cases_community=0)
    days[LAST_CASE] = {"cases_community": 2}
    days[OUTBREAK] = {"cases_community": 6}
    return days


# --- first community cases after N quiet days ------------------------------------------


def test_thai_nguyen_six_cases_after_38_quiet_days(config: SignalConfig) -> None:
    # Quiet from 19/6 to 26/7: 12 days of June (19..30) + 26 of July (1..26) = 38.
    history = History(_thai_nguyen(), {}, date(2021, 1, 1))
    finding = _find(config, history, OUTBREAK, "quiet_days")
    assert finding is not None
    assert finding.message_vi == (
        "Huyện Phú Bình: 6 ca cộng đồng đầu tiên sau 38 ngày không có ca cộng đồng"
    )
    assert finding.message_en == (
        "Huyện Phú Bình: first 6 community cases after 38 days without community cases"
    )
    assert finding.severity == "critical"
    assert finding.metric == "cases_community"
    assert finding.details["run_days"] == 38
    assert finding.details["at_least"] is False
    assert finding.details["previous_positive"] == "2021-06-18"
    json.dumps(finding.details)  # goes into the alert as JSON


def test_quiet_days_before_the_outbreak_raise_nothing(config: SignalConfig) -> None:
    history = History(_thai_nguyen(), {}, date(2021, 1, 1))
    for k in range(1, 39):
        assert _find(config, history, LAST_CASE + timedelta(k), "quiet_days") is None


def test_run_is_counted_from_last_positive_that_left_the_window(config: SignalConfig) -> None:
    # The engine kept only July; 18/6 survives as last_positive: still 38 days, exactly.
    days = _days(date(2021, 7, 1), OUTBREAK - timedelta(1), cases_community=0)
    days[OUTBREAK] = {"cases_community": 6}
    history = History(days, {"cases_community": LAST_CASE}, date(2021, 1, 1))
    finding = _find(config, history, OUTBREAK, "quiet_days")
    assert finding is not None and finding.details["run_days"] == 38
    assert "sau 38 ngày" in finding.message_vi


def test_unreported_days_count_as_quiet(config: SignalConfig) -> None:
    # Nothing reported between 18/6 and 27/7: calendar days since the last case, still 38.
    days = {LAST_CASE: {"cases_community": 2}, OUTBREAK: {"cases_community": 6}}
    finding = _find(config, History(days, {}, date(2021, 1, 1)), OUTBREAK, "quiet_days")
    assert finding is not None and finding.details["run_days"] == 38


@pytest.mark.parametrize(("gap", "fires"), [(13, False), (14, True)])
def test_fourteen_quiet_days_is_the_threshold(config: SignalConfig, gap: int, fires: bool) -> None:
    day = LAST_CASE + timedelta(gap + 1)  # ``gap`` days strictly between the two cases
    days = _days(LAST_CASE, day, cases_community=0)
    days[LAST_CASE] = {"cases_community": 1}
    days[day] = {"cases_community": 3}
    finding = _find(config, History(days, {}, LAST_CASE), day, "quiet_days")
    assert (finding is not None) is fires


def test_no_earlier_case_known_says_at_least(config: SignalConfig) -> None:
    # The unit first reported on 1/7: 26 quiet days known (1/7..26/7), maybe more before.
    days = _days(date(2021, 7, 1), OUTBREAK - timedelta(1), cases_community=0)
    days[OUTBREAK] = {"cases_community": 6}
    finding = _find(config, History(days, {}, date(2021, 7, 1)), OUTBREAK, "quiet_days")
    assert finding is not None
    assert finding.details == {
        "value": 6,
        "run_days": 26,
        "at_least": True,
        "quiet_days": 14,
        "previous_positive": None,
    }
    assert finding.message_vi == (
        "Huyện Phú Bình: 6 ca cộng đồng đầu tiên sau ít nhất 26 ngày không có ca cộng đồng"
    )
    assert finding.message_en == (
        "Huyện Phú Bình: first 6 community cases after at least 26 days without community cases"
    )


def test_one_case_reads_in_the_singular(config: SignalConfig) -> None:
    days = {LAST_CASE: {"cases_community": 2}, OUTBREAK: {"cases_community": 1}}
    finding = _find(config, History(days, {}, date(2021, 1, 1)), OUTBREAK, "quiet_days")
    assert finding is not None
    assert finding.message_en == (
        "Huyện Phú Bình: first community case after 38 days without community cases"
    )


def test_correction_to_zero_or_earlier_case_removes_the_cause(config: SignalConfig) -> None:
    corrected = _thai_nguyen()
    corrected[OUTBREAK] = {"cases_community": 0}
    history = History(corrected, {}, date(2021, 1, 1))
    assert _find(config, history, OUTBREAK, "quiet_days") is None
    # A late report of a case on 20/7 leaves only 6 quiet days before 27/7.
    late = _thai_nguyen()
    late[date(2021, 7, 20)] = {"cases_community": 1}
    assert _find(config, History(late, {}, date(2021, 1, 1)), OUTBREAK, "quiet_days") is None


def test_days_after_the_evaluated_day_are_not_read(config: SignalConfig) -> None:
    days = _thai_nguyen()
    days[OUTBREAK + timedelta(1)] = {"cases_community": 40, "cases_unknown_source": 5}
    finding = _find(config, History(days, {}, date(2021, 1, 1)), OUTBREAK, "quiet_days")
    assert finding is not None and finding.details["run_days"] == 38
    assert _find(config, History(days, {}, date(2021, 1, 1)), OUTBREAK, "unknown_source") is None


def test_a_day_without_the_metric_is_not_a_case(config: SignalConfig) -> None:
    days = _thai_nguyen()
    days[OUTBREAK] = {"cases_new": 6}  # reported, but not the community breakdown
    assert _find(config, History(days, {}, date(2021, 1, 1)), OUTBREAK, "quiet_days") is None


def test_province_roll_up_names_the_province(config: SignalConfig) -> None:
    history = History(_thai_nguyen(), {}, date(2021, 1, 1))
    finding = _find(config, history, OUTBREAK, "quiet_days", THAI_NGUYEN)
    assert finding is not None
    assert finding.message_vi.startswith("Tỉnh Thái Nguyên: 6 ca cộng đồng đầu tiên sau 38 ngày")


def test_quiet_days_threshold_comes_from_config(tmp_path: Path) -> None:
    path = tmp_path / "signals.toml"
    path.write_text(
        '[[datasets]]\ndataset = "district-daily"\n'
        '[[datasets.rules]]\nrule = "quiet_days"\nmetric = "cases_community"\nquiet_days = 40\n',
        encoding="utf-8",
    )
    history = History(_thai_nguyen(), {}, date(2021, 1, 1))
    assert _find(SignalConfig.load(path), history, OUTBREAK, "quiet_days") is None


# --- cases of unknown source -----------------------------------------------------------


def test_unknown_source_cases_raise_a_finding(config: SignalConfig) -> None:
    days = {OUTBREAK: {"cases_new": 6, "cases_unknown_source": 2}}
    finding = _find(config, History(days, {}, OUTBREAK), OUTBREAK, "unknown_source")
    assert finding is not None
    assert finding.metric == "cases_unknown_source"
    assert finding.message_vi == "Huyện Phú Bình: 2 ca mắc chưa rõ nguồn lây ngày 27/07/2021"
    assert finding.message_en == "Huyện Phú Bình: 2 cases of unknown source on 2021-07-27"
    assert finding.details == {"value": 2}


def test_one_unknown_source_case_reads_in_the_singular(config: SignalConfig) -> None:
    days = {OUTBREAK: {"cases_unknown_source": 1}}
    finding = _find(config, History(days, {}, OUTBREAK), OUTBREAK, "unknown_source")
    assert finding is not None
    assert finding.message_en == "Huyện Phú Bình: 1 case of unknown source on 2021-07-27"


@pytest.mark.parametrize("values", [{"cases_unknown_source": 0}, {"cases_new": 3}, {}])
def test_no_unknown_source_case_no_finding(config: SignalConfig, values: dict[str, int]) -> None:
    days = {OUTBREAK: values} if values else {}
    assert _find(config, History(days, {}, OUTBREAK), OUTBREAK, "unknown_source") is None


# --- EARS C2 ---------------------------------------------------------------------------

C2 = '[[datasets.rules]]\nrule = "ears_c2"\nmetric = "cases_new"\n'


def _c2(config: SignalConfig, series: list[int]) -> Finding | None:
    """EARS C2's finding for the last of ``series``, consecutive days ending on OUTBREAK."""
    start = OUTBREAK - timedelta(len(series) - 1)
    days = {start + timedelta(k): {"cases_new": v} for k, v in enumerate(series)}
    return _find(config, History(days, {}, start), OUTBREAK, "ears_c2")


def _config(tmp_path: Path, rule: str) -> SignalConfig:
    path = tmp_path / "signals.toml"
    path.write_text('[[datasets]]\ndataset = "district-daily"\n' + rule, encoding="utf-8")
    return SignalConfig.load(path)


@pytest.mark.parametrize(
    # Baseline 1,3,1,3,1,3,1: mean 13/7, sd √((4·(6/7)² + 3·(8/7)²)/6) = √(8/7) = 1.0690450;
    # the guard days (20, 20) are not in it. y = 6: (29/7)/√(8/7) = 29/√56 = 3.875288 ≥ 3;
    # y = 5: 22/√56 = 2.939874 < 3.
    ("y", "statistic"),
    [(5, None), (6, 3.875288)],
)
def test_ears_c2_three_sds_above_the_mean(tmp_path: Path, y: int, statistic: float | None) -> None:
    finding = _c2(_config(tmp_path, C2), [1, 3, 1, 3, 1, 3, 1, 20, 20, y])
    if statistic is None:
        assert finding is None
        return
    assert finding is not None and finding.severity == "warning"
    assert finding.details["baseline_mean"] == pytest.approx(13 / 7)
    assert finding.details["baseline_sd"] == pytest.approx(1.0690450, abs=1e-7)
    assert finding.details["statistic"] == pytest.approx(statistic, abs=1e-6)
    assert "(EARS C2)" in finding.message_en and "3,9 độ lệch chuẩn" in finding.message_vi


def test_ears_c2_sd_floor_and_critical_threshold(tmp_path: Path) -> None:
    config = _config(tmp_path, C2 + "critical_threshold = 3.5\n")
    # All-zero week: sd 0 → floor 0.5. One case scores 1/0.5 = 2 (nothing), two score 4.
    assert _c2(config, [0] * 9 + [1]) is None
    finding = _c2(config, [0] * 9 + [2])
    assert finding is not None and finding.severity == "critical"
    assert finding.details["statistic"] == pytest.approx(4.0)


def test_ears_c2_is_off_by_default(config: SignalConfig) -> None:
    assert _c2(config, [0] * 30 + [50]) is None
