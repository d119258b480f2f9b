"""Surveillance signal detectors: pure functions from a unit's recent days to findings.

The stream engine (``streams/signals.py``) keeps each unit's and area's days and calls
``evaluate`` for every day a report or a correction may change; it turns findings into
alerts and withdraws those a correction no longer finds. Invariants here:
- only days up to the evaluated day are read (the engine's history may run past it);
- a day absent from ``History.days``, or a metric absent from a day, is "not reported",
  never 0: it is skipped in baselines and never a positive day;
- the same inputs give the same findings and the same message text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from contract.signal_config import (
    EarsC2Rule,
    EwmaRule,
    QuietDaysRule,
    RuleConfig,
    SignalConfig,
    UnknownSourceRule,
)
from streams.ewma import Window, ears_c2, ewma

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Subject:
    """The unit or area a finding is about; ``name`` is its Vietnamese name."""

    unit_id: str
    name: str
    kind: str  # district | commune | province | checkpoint
    #: parent_id and province_id, which route its alerts (sinks/notify/routing.py)
    route: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """A subject's latest-revision values per reported day, and what older days left."""

    days: Mapping[date, Mapping[str, int]]
    #: per metric, the last day > 0 older than the oldest day in ``days``
    last_positive: Mapping[str, date]
    #: the first day this unit or area ever reported
    first_day: date | None


@dataclass(frozen=True)
class Finding:
    rule: str  # quiet_days | unknown_source | ewma | ears_c2
    metric: str  # a metric code, or a ratio's name such as "pcr_positivity"
    day: date
    severity: Severity  # warning = yellow, critical = red
    message_vi: str
    message_en: str
    details: dict[str, Any]


def evaluate(
    config: SignalConfig, dataset: str, subject: Subject, history: History, day: date
) -> list[Finding]:
    """Every enabled rule of ``dataset`` that fires for ``subject`` on ``day``."""
    findings: list[Finding] = []
    for rule in config.rules(dataset):
        finding = _detect(rule, subject, history, day)
        if finding is not None:
            findings.append(finding)
    return findings


def _detect(rule: RuleConfig, subject: Subject, history: History, day: date) -> Finding | None:
    if isinstance(rule, QuietDaysRule):
        return quiet_days(rule, subject, history, day)
    if isinstance(rule, UnknownSourceRule):
        return unknown_source(rule, subject, history, day)
    if isinstance(rule, EwmaRule):
        return unusual_rise_ewma(rule, subject, history, day)
    return unusual_rise_c2(rule, subject, history, day)


def quiet_days(
    rule: QuietDaysRule, subject: Subject, history: History, day: date
) -> Finding | None:
    """First positive value after at least ``rule.quiet_days`` calendar days without one."""
    value = history.days.get(day, {}).get(rule.metric)
    if not value:
        return None
    earlier = [
        d for d, values in history.days.items() if d < day and values.get(rule.metric, 0) > 0
    ]
    previous = max(earlier, default=None)
    if previous is None:
        older = history.last_positive.get(rule.metric)
        previous = older if older is not None and older < day else None
    if previous is not None:
        run, at_least = (day - previous).days - 1, False  # calendar days strictly between
    else:
        # No case known before: count from the first report, which is a lower bound.
        reported = [d for d in history.days if d <= day]
        start = min(history.first_day or min(reported, default=day), day)
        run, at_least = (day - start).days, True
    if run < rule.quiet_days:
        return None
    vi_run = f"{'ít nhất ' if at_least else ''}{run} ngày"
    en_run = f"{'at least ' if at_least else ''}{run} days"
    one = rule.name_en_one or rule.name_en
    en_first = f"first {one}" if value == 1 else f"first {value} {rule.name_en}"
    return Finding(
        rule="quiet_days",
        metric=rule.metric,
        day=day,
        severity=rule.severity,
        message_vi=(
            f"{subject.name}: {value} {rule.name_vi} đầu tiên sau {vi_run} không có {rule.name_vi}"
        ),
        message_en=f"{subject.name}: {en_first} after {en_run} without {rule.name_en}",
        details={
            "value": value,
            "run_days": run,
            "at_least": at_least,
            "quiet_days": rule.quiet_days,
            "previous_positive": previous.isoformat() if previous else None,
        },
    )


def unknown_source(
    rule: UnknownSourceRule, subject: Subject, history: History, day: date
) -> Finding | None:
    """Any positive value (cases of unknown source) on the day."""
    value = history.days.get(day, {}).get(rule.metric)
    if not value:
        return None
    noun_en = rule.name_en_one or rule.name_en if value == 1 else rule.name_en
    return Finding(
        rule="unknown_source",
        metric=rule.metric,
        day=day,
        severity=rule.severity,
        message_vi=f"{subject.name}: {value} {rule.name_vi} ngày {_day_vi(day)}",
        message_en=f"{subject.name}: {value} {noun_en} on {day.isoformat()}",
        details={"value": value},
    )


def window(rule: EwmaRule | EarsC2Rule, history: History, day: date) -> Window:
    """The rule's series over the ``B + g + 1`` days ending ``day`` (None: not reported)."""
    get = history.days.get
    first = day.toordinal() - rule.reach()
    days = [get(date.fromordinal(o)) for o in range(first, day.toordinal() + 1)]
    if rule.numerator is None or rule.denominator is None:
        metric = rule.metric
        return [None if v is None or metric not in v else float(v[metric]) for v in days]
    return [_ratio(rule, rule.numerator, rule.denominator, v) for v in days]


def _ratio(
    rule: EwmaRule | EarsC2Rule, numerator: str, denominator: str, v: Mapping[str, int] | None
) -> float | None:
    """Per cent of ``numerator`` in ``denominator``; None below ``min_denominator``."""
    if v is None:
        return None
    tests = v.get(denominator)
    positives = v.get(numerator)
    if positives is None or tests is None or tests < rule.min_denominator:
        return None  # too few tests for a positivity worth comparing
    return 100.0 * positives / tests


def unusual_rise_ewma(
    rule: EwmaRule, subject: Subject, history: History, day: date
) -> Finding | None:
    """ESSENCE's EWMA: yellow when p < ``warning_p``, red when p < ``critical_p``."""
    values = window(rule, history, day)
    found = ewma(values, rule)
    if found is None or found.p_value >= rule.warning_p:
        return None
    value = _shown(values[-1])
    severity: Severity = "critical" if found.p_value < rule.critical_p else "warning"
    b = found.baseline
    return Finding(
        rule="ewma",
        metric=rule.metric,
        day=day,
        severity=severity,
        message_vi=(
            f"{subject.name}: {rule.name_vi} tăng bất thường ngày {_day_vi(day)}: "
            f"{_num_vi(rule, value)}, trung bình {b.days} ngày nền {_num_vi(rule, b.mean)} "
            f"(EWMA, p {_p_vi(found.p_value)})"
        ),
        message_en=(
            f"{subject.name}: unusual rise in {rule.name_en} on {day.isoformat()}: "
            f"{_num_en(rule, value)} against a {b.days}-day baseline mean of "
            f"{_num_en(rule, b.mean)} (EWMA, p {_p_en(found.p_value)})"
        ),
        details={
            **_ratio_details(rule, history, day),
            "value": value,
            "baseline_mean": b.mean,
            "baseline_sd": b.sd,
            "baseline_days": b.days,
            "guard_days": rule.guard_days,
            "smoothing": found.smoothing,
            "smoothed": found.smoothed,
            "sigma": found.sigma,
            "statistic": found.statistic,
            "p_value": found.p_value,
            "degrees_of_freedom": found.degrees_of_freedom,
        },
    )


def unusual_rise_c2(
    rule: EarsC2Rule, subject: Subject, history: History, day: date
) -> Finding | None:
    """EARS C2: a warning at ``threshold`` sds above the mean, red at ``critical_threshold``."""
    values = window(rule, history, day)
    found = ears_c2(values, rule)
    if found is None or found.statistic < rule.threshold:
        return None
    value = _shown(values[-1])
    critical = rule.critical_threshold is not None and found.statistic >= rule.critical_threshold
    severity: Severity = "critical" if critical else "warning"
    b = found.baseline
    sds_vi = f"{found.statistic:.1f}".replace(".", ",")
    return Finding(
        rule="ears_c2",
        metric=rule.metric,
        day=day,
        severity=severity,
        message_vi=(
            f"{subject.name}: {rule.name_vi} tăng bất thường ngày {_day_vi(day)}: "
            f"{_num_vi(rule, value)}, cao hơn trung bình {b.days} ngày nền "
            f"({_num_vi(rule, b.mean)}) {sds_vi} độ lệch chuẩn (EARS C2)"
        ),
        message_en=(
            f"{subject.name}: unusual rise in {rule.name_en} on {day.isoformat()}: "
            f"{_num_en(rule, value)}, {found.statistic:.1f} standard deviations above the "
            f"{b.days}-day baseline mean of {_num_en(rule, b.mean)} (EARS C2)"
        ),
        details={
            **_ratio_details(rule, history, day),
            "value": value,
            "baseline_mean": b.mean,
            "baseline_sd": b.sd,
            "baseline_days": b.days,
            "guard_days": rule.guard_days,
            "sigma": found.sigma,
            "statistic": found.statistic,
            "threshold": rule.threshold,
        },
    )


def _ratio_details(rule: EwmaRule | EarsC2Rule, history: History, day: date) -> dict[str, int]:
    if rule.numerator is None or rule.denominator is None:
        return {}
    values = history.days[day]
    return {"numerator": values[rule.numerator], "denominator": values[rule.denominator]}


def _shown(value: float | None) -> float | int:
    """A tested day's value for details: a count stays an int (tested days are reported)."""
    assert value is not None
    return int(value) if value == int(value) else value


def _day_vi(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _fmt(rule: EwmaRule | EarsC2Rule, x: float) -> str:
    return f"{x:.1f} %" if rule.is_ratio else (f"{x:.0f}" if x == int(x) else f"{x:.1f}")


def _num_vi(rule: EwmaRule | EarsC2Rule, x: float) -> str:
    return _fmt(rule, x).replace(".", ",")


def _num_en(rule: EwmaRule | EarsC2Rule, x: float) -> str:
    return _fmt(rule, x).replace(" %", "%")


def _p(p: float, fmt: Callable[[str], str]) -> str:
    return f"< {fmt('0.001')}" if p < 0.001 else f"= {fmt(f'{p:.3f}')}"


def _p_vi(p: float) -> str:
    return _p(p, lambda s: s.replace(".", ","))


def _p_en(p: float) -> str:
    return _p(p, lambda s: s)
