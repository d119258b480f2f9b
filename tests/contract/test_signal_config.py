"""Signal configuration: the shipped rules and their defaults, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.errors import ConfigError
from contract.signal_config import (
    EarsC2Rule,
    EwmaRule,
    QuietDaysRule,
    SignalConfig,
    SignalConfigError,
    UnknownSourceRule,
)

HEAD = '[[datasets]]\ndataset = "district-daily"\n'
EWMA = HEAD + '[[datasets.rules]]\nrule = "ewma"\nmetric = "cases_new"\n'


def _load(tmp_path: Path, text: str) -> SignalConfig:
    path = tmp_path / "signals.toml"
    path.write_text(text, encoding="utf-8")
    return SignalConfig.load(path)


def _error(tmp_path: Path, text: str) -> SignalConfigError:
    with pytest.raises(SignalConfigError) as caught:
        _load(tmp_path, text)
    return caught.value


# --- the shipped configuration ---------------------------------------------------------


def test_shipped_rules_and_their_defaults() -> None:
    config = SignalConfig.load()
    rules = config.rules("district-daily")
    assert [(r.rule, r.metric) for r in rules] == [
        ("quiet_days", "cases_community"),
        ("unknown_source", "cases_unknown_source"),
        ("ewma", "cases_new"),
        ("ewma", "pcr_positivity"),
    ]  # EARS C2 is shipped disabled
    quiet, unknown, cases, positivity = rules
    assert isinstance(quiet, QuietDaysRule) and quiet.quiet_days == 14
    assert isinstance(unknown, UnknownSourceRule)
    for ewma in (cases, positivity):
        assert isinstance(ewma, EwmaRule)
        assert (ewma.baseline_days, ewma.guard_days, ewma.smoothing) == (28, 2, (0.4, 0.9))
        assert (ewma.warning_p, ewma.critical_p, ewma.min_baseline_days) == (0.05, 0.01, 7)
        assert ewma.min_sigma == (1.0, 0.5)
    assert isinstance(positivity, EwmaRule)
    assert (positivity.numerator, positivity.denominator) == ("tests_pcr_positive", "tests_pcr")
    assert (positivity.min_denominator, positivity.sd_floor) == (50, 1.0)


def test_metrics_and_lookback_tell_the_engine_what_to_keep() -> None:
    config = SignalConfig.load()
    assert config.metrics("district-daily") == {
        "cases_community",
        "cases_unknown_source",
        "cases_new",
        "tests_pcr",
        "tests_pcr_positive",
    }
    assert config.lookback_days == 30  # 28 baseline + 2 guard days
    assert config.rules("checkpoint-daily") == [] and config.metrics("checkpoint-daily") == set()
    assert config.rules("no-such-dataset") == []


def test_model_defaults_match_the_documented_sources(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        HEAD + '[[datasets.rules]]\nrule = "ewma"\nmetric = "cases_new"\n'
        '[[datasets.rules]]\nrule = "ears_c2"\nmetric = "deaths"\n'
        '[[datasets.rules]]\nrule = "quiet_days"\nmetric = "cases_community"\n',
    )
    ewma, c2, quiet = config.rules("district-daily")
    assert isinstance(ewma, EwmaRule) and isinstance(c2, EarsC2Rule)
    assert (ewma.baseline_days, ewma.guard_days, ewma.smoothing) == (28, 2, (0.4, 0.9))
    assert (c2.baseline_days, c2.guard_days, c2.threshold, c2.sd_floor) == (7, 2, 3.0, 0.5)
    assert c2.critical_threshold is None
    assert isinstance(quiet, QuietDaysRule) and quiet.quiet_days == 14
    # Without names in the file, messages use the catalog's names.
    assert (ewma.name_vi, ewma.name_en) == ("ca mắc mới (F0)", "new cases (F0)")
    assert config.metrics("district-daily") == {"cases_new", "deaths", "cases_community"}
    assert config.lookback_days == 30


def test_lookback_is_the_longest_reach_of_an_enabled_rule(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        HEAD + '[[datasets.rules]]\nrule = "ewma"\nmetric = "cases_new"\nbaseline_days = 21\n'
        "guard_days = 1\n"
        '[[datasets.rules]]\nrule = "quiet_days"\nmetric = "cases_community"\nquiet_days = 40\n'
        "enabled = false\n",
    )
    assert config.lookback_days == 22
    assert config.metrics("district-daily") == {"cases_new"}


# --- errors ----------------------------------------------------------------------------


def test_unknown_rule_is_refused_in_both_languages(tmp_path: Path) -> None:
    err = _error(tmp_path, HEAD + '[[datasets.rules]]\nrule = "cusum"\nmetric = "cases_new"\n')
    assert isinstance(err, ConfigError)
    assert "loại quy tắc 'cusum' không tồn tại" in err.message_vi
    assert "unknown rule 'cusum'" in err.message_en
    assert "quiet_days, unknown_source, ewma, ears_c2" in err.message_en
    assert str(err) == f"{err.message_vi}\n{err.message_en}"


@pytest.mark.parametrize("smoothing", ["[0.0, 0.9]", "[0.4, 1.5]", "[-0.4]"])
def test_smoothing_outside_zero_one_is_refused(tmp_path: Path, smoothing: str) -> None:
    err = _error(tmp_path, EWMA + f"smoothing = {smoothing}\n")
    assert "hệ số làm trơn (smoothing) phải thuộc (0, 1]" in err.message_vi
    assert "smoothing must be in (0, 1]" in err.message_en


def test_smoothing_of_one_is_allowed(tmp_path: Path) -> None:
    config = _load(tmp_path, EWMA + "smoothing = [1.0]\n")
    rule = config.rules("district-daily")[0]
    assert isinstance(rule, EwmaRule) and rule.smoothing == (1.0,)


@pytest.mark.parametrize(
    ("dataset", "rule", "code"),
    [
        ("district-daily", 'rule = "quiet_days"\nmetric = "cases_communty"', "cases_communty"),
        ("checkpoint-daily", 'rule = "ewma"\nmetric = "cases_new"', "cases_new"),
        (
            "district-daily",
            'rule = "ewma"\nmetric = "positivity"\nnumerator = "tests_pcr_positive"\n'
            'denominator = "tests_rt_pcr"\nname_vi = "tỷ lệ"\nname_en = "ratio"',
            "tests_rt_pcr",
        ),
    ],
)
def test_unknown_metric_for_the_dataset_is_refused(
    tmp_path: Path, dataset: str, rule: str, code: str
) -> None:
    err = _error(tmp_path, f'[[datasets]]\ndataset = "{dataset}"\n[[datasets.rules]]\n{rule}\n')
    assert f"chỉ tiêu {code!r} không có trong bộ dữ liệu {dataset}" in err.message_vi
    assert f"unknown metric {code!r} for dataset {dataset}" in err.message_en


@pytest.mark.parametrize(
    ("text", "vi", "en"),
    [
        (
            '[[datasets]]\ndataset = "hospital-daily"\n',
            "bộ dữ liệu 'hospital-daily' không có trong danh mục",
            "dataset 'hospital-daily' is not in the catalog",
        ),
        (
            HEAD + '[[datasets.rules]]\nrule = "ewma"\nmetric = "ratio"\nnumerator = "tests_pcr"\n',
            "tỷ lệ cần cả tử số",
            "a ratio needs both numerator and denominator",
        ),
        (
            EWMA + "warning_p = 0.01\n",
            "critical_p (0.01) phải nhỏ hơn warning_p (0.01)",
            "critical_p (0.01) must be below warning_p (0.01)",
        ),
        (
            EWMA + "min_baseline_days = 30\n",
            "min_baseline_days (30) lớn hơn baseline_days (28)",
            "min_baseline_days (30) exceeds baseline_days (28)",
        ),
        (
            HEAD + '[[datasets.rules]]\nrule = "unknown_source"\nmetric = "cases_unknown_source"\n'
            '[[datasets.rules]]\nrule = "unknown_source"\nmetric = "cases_unknown_source"\n',
            "khai báo hai lần",
            "defined twice",
        ),
        (
            HEAD + '[[datasets.rules]]\nrule = "quiet_days"\nmetric = "cases_community"\n'
            "quiet_day = 14\n",
            "trường không được phép",
            "Extra inputs are not permitted",
        ),
        (
            HEAD + '[[datasets.rules]]\nrule = "ears_c2"\nmetric = "cases_new"\nsd_floor = 0\n',
            "giá trị không hợp lệ",
            "greater than 0",
        ),
    ],
)
def test_bad_rules_are_refused_with_reasons(tmp_path: Path, text: str, vi: str, en: str) -> None:
    err = _error(tmp_path, text)
    assert vi in err.message_vi and en in err.message_en
    assert "signals.toml" in err.message_vi and "signals.toml" in err.message_en


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    err = _error(tmp_path, "[[datasets]\n")
    assert err.message_vi.startswith("Không đọc được cấu hình tín hiệu")
    assert err.message_en.startswith("Cannot read the signal configuration")
    with pytest.raises(ConfigError):
        SignalConfig.load(tmp_path / "missing.toml")
