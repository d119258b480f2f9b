"""EWMA (NSSP-ESSENCE) and the t distribution against hand-computed numbers.

Expected values are worked out in the comments from the formulas in Rnssp's
R/alert_ewma.R (ewma_loop) and t-table values, not by calling the code under test.
Constants used throughout, for B = 28 baseline days, g = 2, df = 27:
  t_0.95 = 1.70329, t_0.99 = 2.47266 (t table, rounded to 5 places as Rnssp does)
  w = 0.9: correction = √(0.9/1.1 + 1/28 − 2·0.1³·(1 − 0.1²⁸)/28) = √0.8538247 = 0.9240263
           delta = (0.1289 − (0.2414 − 0.1826·0.1⁴)·ln 0.5)·0.9/1.70329 = 0.1565158
           min_sigma = (0.9/1.70329)·(1 + 0.5·0.1²) = 0.5310311
  w = 0.4: correction = √(0.4/1.6 + 1/28 − 2·0.6³·(1 − 0.6²⁸)/28) = 0.5198901
           delta = (0.1289 − (0.2414 − 0.1826·0.6⁴)·ln 0.5)·0.4/1.70329 = 0.0657134
           min_sigma = (0.4/1.70329)·(1 + 0.5·0.6²) = 0.2771108
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from contract.signal_config import SignalConfig
from streams.detectors import Finding, History, Subject, evaluate
from streams.tdist import t_cdf, t_quantile, t_sf

DAY = date(2021, 8, 30)
UNIT = Subject("173", "Huyện Phú Bình", "district")
ALT = [1 if k % 2 == 0 else 3 for k in range(28)]  # 1, 3, 1, 3 …: mean 2, sd √(28/27)


@pytest.fixture(scope="module")
def config() -> SignalConfig:
    return SignalConfig.load()


def _history(series: Sequence[int | None], metric: str = "cases_new") -> History:
    """``series`` ends on DAY; None = not reported."""
    start = DAY - timedelta(len(series) - 1)
    days = {start + timedelta(k): {metric: v} for k, v in enumerate(series) if v is not None}
    return History(days, {}, start)


def _ewma(config: SignalConfig, history: History, metric: str = "cases_new") -> Finding | None:
    found = [
        f
        for f in evaluate(config, "district-daily", UNIT, history, DAY)
        if f.rule == "ewma" and f.metric == metric
    ]
    return found[0] if found else None


def _config(tmp_path: Path, rule: str) -> SignalConfig:
    path = tmp_path / "signals.toml"
    path.write_text('[[datasets]]\ndataset = "district-daily"\n' + rule, encoding="utf-8")
    return SignalConfig.load(path)


# --- t distribution --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.95, 27, 1.703288),
        (0.99, 27, 2.472660),
        (0.95, 26, 1.705618),
        (0.99, 26, 2.478629),
        (0.95, 25, 1.708141),
        (0.99, 25, 2.485107),
        (0.95, 1, 6.313752),
        (0.975, 10, 2.228139),
        (0.95, 6, 1.943180),
        (0.99, 6, 3.142668),
    ],
)
def test_t_quantiles_match_the_t_table(p: float, df: int, table: float) -> None:
    assert t_quantile(p, df) == pytest.approx(table, abs=2e-6)
    assert t_cdf(table, df) == pytest.approx(p, abs=1e-6)


def test_t_tails_match_closed_forms() -> None:
    # df = 1 is Cauchy: P(T > t) = 1/2 − atan(t)/π; df = 2: 1/2 − t / (2√(2 + t²)).
    for t in (0.0, 0.5, 1.0, 3.0, 1000.0):
        assert t_sf(t, 1) == pytest.approx(0.5 - math.atan(t) / math.pi, rel=1e-9)
        assert t_sf(t, 2) == pytest.approx(0.5 - t / (2 * math.sqrt(2 + t * t)), rel=1e-9)
    assert t_cdf(2.0, 5) == pytest.approx(0.9490303, abs=1e-7)  # R: pt(2, 5)
    assert t_sf(-1.3, 27) == pytest.approx(1 - t_sf(1.3, 27), abs=1e-12)


# --- EWMA ------------------------------------------------------------------------------


def test_one_case_after_an_all_zero_baseline_stays_quiet(config: SignalConfig) -> None:
    # Baseline mean 0, sd 0: sigma = min_sigma (w = 0.9: 0.5310311). z = 0.9·1 = 0.9,
    # statistic 0.9/0.5310311 = 1.694816 < 1.70329 → p just above 0.05, no alert.
    history = _history([0] * 30 + [1])
    assert _ewma(config, history) is None


def test_two_cases_after_an_all_zero_baseline_are_red(config: SignalConfig) -> None:
    # z = 0.9·2 = 1.8, statistic 1.8/0.5310311 = 3.389632 > 2.47266 → red.
    finding = _ewma(config, _history([0] * 30 + [2]))
    assert finding is not None and finding.severity == "critical"
    d = finding.details
    assert (d["baseline_mean"], d["baseline_sd"], d["smoothing"]) == (0.0, 0.0, 0.9)
    assert d["smoothed"] == pytest.approx(1.8)
    assert d["sigma"] == pytest.approx(0.5310311, abs=1e-7)
    assert d["statistic"] == pytest.approx(3.389632, abs=1e-6)
    assert d["degrees_of_freedom"] == 27 and d["baseline_days"] == 28


def test_a_lower_sigma_floor_lets_one_case_alert(tmp_path: Path) -> None:
    # Rnssp v0.3.1's floor, (w/1.70329)·(0.01 + 0.05·(1 − w)²), is below delta for both
    # smoothings, so sigma = delta: w = 0.9 gives 0.9/0.1565158 = 5.750219, w = 0.4 gives
    # 0.4/0.0657134 = 6.087039, the larger one.
    config = _config(
        tmp_path,
        '[[datasets.rules]]\nrule = "ewma"\nmetric = "cases_new"\nmin_sigma = [0.01, 0.05]\n',
    )
    finding = _ewma(config, _history([0] * 30 + [1]))
    assert finding is not None and finding.severity == "critical"
    assert finding.details["smoothing"] == 0.4
    assert finding.details["statistic"] == pytest.approx(6.087039, abs=1e-6)


@pytest.mark.parametrize(
    # Baseline ALT, guard days 2, 2, then y. z settles into its 2-cycle: w = 0.9 ends the
    # baseline at 2.8181818 (= 2.79/0.99), w = 0.4 at 2.25 (= 1.44/0.64, off by 8e-7).
    # w = 0.9: z29 = 1.8 + 0.1·(1.8 + 0.1·2.8181818) = 2.0081818; z = 0.9·y + 0.2008182.
    # sigma = 1.0183502·0.9240263 + 0.1565158 = 1.0974981 (> min_sigma).
    # w = 0.4: z29 = 2.09, z = 0.4·y + 1.254; sigma = 1.0183502·0.5198901 + 0.0657134 =
    # 0.5951436. The larger statistic (smaller p, same df) wins.
    ("y", "severity", "smoothing", "smoothed", "statistic"),
    [
        (4, None, 0.9, 3.8008182, 1.640839),  # (3.8008182 − 2)/1.0974981
        (5, "warning", 0.9, 4.7008182, 2.460886),  # p between 0.01 and 0.05
        (9, "critical", 0.9, 8.3008182, 5.741074),  # w = 0.4 only reaches 4.795481
    ],
)
def test_small_counts_against_a_varying_baseline(
    config: SignalConfig,
    y: int,
    severity: str | None,
    smoothing: float,
    smoothed: float,
    statistic: float,
) -> None:
    finding = _ewma(config, _history([*ALT, 2, 2, y]))
    assert (finding.severity if finding else None) == severity
    if finding is None:
        return
    d = finding.details
    assert d["value"] == y
    assert d["baseline_mean"] == pytest.approx(2.0)
    assert d["baseline_sd"] == pytest.approx(math.sqrt(28 / 27))  # 1.0183502
    assert d["smoothing"] == smoothing
    assert d["smoothed"] == pytest.approx(smoothed, abs=1e-6)
    assert d["sigma"] == pytest.approx(1.0974981, abs=1e-6)
    assert d["statistic"] == pytest.approx(statistic, abs=1e-5)
    assert d["p_value"] == pytest.approx(t_sf(statistic, 27), rel=1e-4)


def test_warning_reads_as_an_unusual_rise(config: SignalConfig) -> None:
    finding = _ewma(config, _history([*ALT, 2, 2, 5]))
    assert finding is not None
    assert finding.message_vi == (
        "Huyện Phú Bình: ca mắc mới tăng bất thường ngày 30/08/2021: 5, "
        "trung bình 28 ngày nền 2 (EWMA, p = 0,010)"
    )
    assert finding.message_en == (
        "Huyện Phú Bình: unusual rise in new cases on 2021-08-30: 5 against a 28-day "
        "baseline mean of 2 (EWMA, p = 0.010)"
    )


def test_missing_baseline_days_are_skipped(config: SignalConfig) -> None:
    # Days 4 and 5 (a 1 and a 3) not reported: 26 baseline days, mean 2, sd √(26/25) =
    # 1.0198039, df 25 (t_0.95 = 1.70814, t_0.99 = 2.48511). z skips them and keeps its
    # cycle: w = 0.9 ends at 4.7008182 as above. correction = √(0.8181818 + 1/26 −
    # 0.002·(1 − 0.1²⁶)/26) = 0.9255087, delta = 0.2962136·0.9/1.70814 = 0.1560714,
    # sigma = 1.0198039·0.9255087 + 0.1560714 = 1.0999088, statistic 2.7008182/1.0999088 =
    # 2.455493 < 2.48511: yellow.
    series: list[int | None] = [*ALT, 2, 2, 5]
    series[4] = series[5] = None
    finding = _ewma(config, _history(series))
    assert finding is not None and finding.severity == "warning"
    d = finding.details
    assert (d["baseline_days"], d["degrees_of_freedom"]) == (26, 25)
    assert d["baseline_sd"] == pytest.approx(1.0198039, abs=1e-6)
    assert d["sigma"] == pytest.approx(1.0999088, abs=1e-6)
    assert d["statistic"] == pytest.approx(2.455493, abs=1e-5)


def test_too_few_baseline_days_or_no_report_today_no_test(config: SignalConfig) -> None:
    six: list[int | None] = [None] * 22 + [0] * 6 + [0, 0, 9]  # 6 < min_baseline_days 7
    assert _ewma(config, _history(six)) is None
    seven: list[int | None] = [None] * 21 + [0] * 7 + [0, 0, 9]
    assert _ewma(config, _history(seven)) is not None
    assert _ewma(config, _history([*ALT, 2, 2, None])) is None


def test_a_changed_earlier_day_changes_the_later_result(config: SignalConfig) -> None:
    before = _ewma(config, _history([*ALT, 2, 2, 5]))
    assert before is not None and before.severity == "warning"
    # A correction of baseline day 10 from 1 to 9: mean 64/28 = 2.2857143, sd =
    # √((220 − 64²/28)/27) = 1.6523192; w = 0.9 gives (4.7008 − 2.2857)/(1.6523192·0.9240263
    # + 0.1565158) = 1.43 < 1.70329: the rise is no longer unusual.
    corrected = [*ALT, 2, 2, 5]
    corrected[10] = 9
    assert _ewma(config, _history(corrected)) is None
    # A late report of 6 on guard day 29 (not in the baseline) moves the smoothed value.
    # w = 0.4: z28 = 2.15, z29 = 2.4 + 0.6·2.15 = 3.69. Day 29's own baseline (days 0..26:
    # mean 53/27 = 1.9629630, sd 1.0183502, df 26: t_0.95 = 1.70562, t_0.99 = 2.47863)
    # gives sigma 0.5957891 and statistic 2.898738 > 2.47863, so ESSENCE pulls z29 back to
    # 1.9629630 + 2.47863·0.5957891 = 3.4397038. Day 30: z = 2 + 0.6·3.4397038 = 4.0638223,
    # statistic (4.0638223 − 2)/0.5951436 = 3.467772 (w = 0.9 reaches 2.704745): red.
    late = [*ALT, 2, 6, 5]
    after = _ewma(config, _history(late))
    assert after is not None and after.severity == "critical"
    assert after.details["smoothing"] == 0.4
    assert after.details["smoothed"] == pytest.approx(4.0638223, abs=1e-6)
    assert after.details["statistic"] == pytest.approx(3.467772, abs=1e-5)


# --- RT-PCR positivity -----------------------------------------------------------------


def _tests(days: list[tuple[int, int]]) -> History:
    start = DAY - timedelta(len(days) - 1)
    return History(
        {
            start + timedelta(k): {"tests_pcr": t, "tests_pcr_positive": p}
            for k, (t, p) in enumerate(days)
        },
        {},
        start,
    )


def test_positivity_rise_uses_the_one_point_sd_floor(config: SignalConfig) -> None:
    # 2/100 = 2 % every day, then 8/100 = 8 %. sd 0 → floor 1 point: w = 0.9 sigma =
    # 1·0.9240263 + 0.1565158 = 1.0805421, z = 2 + 0.9·6 = 7.4, statistic 5.4/1.0805421 =
    # 4.997491 (w = 0.4: 2.4/0.5856035 = 4.098336): red.
    finding = _ewma(config, _tests([(100, 2)] * 30 + [(100, 8)]), "pcr_positivity")
    assert finding is not None and finding.severity == "critical"
    d = finding.details
    assert (d["numerator"], d["denominator"], d["value"]) == (8, 100, 8.0)
    assert d["smoothed"] == pytest.approx(7.4)
    assert d["sigma"] == pytest.approx(1.0805421, abs=1e-6)
    assert d["statistic"] == pytest.approx(4.997491, abs=1e-5)
    assert "tỷ lệ dương tính RT-PCR tăng bất thường" in finding.message_vi
    assert ": 8.0% against a 28-day baseline mean of 2.0%" in finding.message_en


def test_one_positive_after_a_zero_baseline_is_not_a_rise(config: SignalConfig) -> None:
    # 1/50 = 2 % after 0 %: z = 1.8, statistic 1.8/1.0805421 = 1.665830 < 1.70329.
    assert _ewma(config, _tests([(60, 0)] * 30 + [(50, 1)]), "pcr_positivity") is None


@pytest.mark.parametrize("today", [(0, 0), (40, 10)])
def test_positivity_needs_enough_tests(config: SignalConfig, today: tuple[int, int]) -> None:
    # Zero tests (no division by zero) and 40 < 50 tests: the day is not tested at all.
    assert _ewma(config, _tests([(100, 2)] * 30 + [today]), "pcr_positivity") is None
