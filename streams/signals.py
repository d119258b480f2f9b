"""Surveillance signals and epidemic levels for one subject (a unit or an area), as of its days.

Pure over a ``Series``: the Faust wiring (streams/signal_watch.py) hands in each day's
latest values and sends what comes out. A changed day re-evaluates every later day whose
detectors or level window read it, so a late report or a correction moves the days after
it too. Alerts are derived by comparing the findings of a day with what was sent for it:
a new finding raises (``alert_id == signal_id``), a finding that went away is withdrawn
(``<signal_id>:withdrawn:<n>``), one that comes back is raised again
(``<signal_id>:raised:<n>``). Ids are deterministic, and what was sent is recorded in the
series after the broker acknowledged it, so a re-read sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contract.datasets import Catalog
from contract.events import Alert, LevelAssessed
from contract.levels import LEVEL_NAMES, LevelInputs, LevelProfiles, Profile
from contract.population import Population, area_populations
from contract.registry import Registry
from contract.signal_config import SignalConfig
from streams.detectors import Finding, History, Subject, evaluate
from streams.series import Rev, Series

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Days of the level window: the longest ``<metric>_<N>d`` a profile reads is added to it.
WEEK = 7


@dataclass
class Outcome:
    """What one observation changed: the new series, alerts to send once, levels to store."""

    series: Series
    alerts: list[Alert] = field(default_factory=list)
    levels: list[LevelAssessed] = field(default_factory=list)


class SignalEngine:
    """Findings, levels and the alerts they cause, for any subject of the registry."""

    def __init__(
        self,
        config: SignalConfig,
        profiles: LevelProfiles,
        populations: Mapping[str, Population],
        registry: Registry,
        catalog: Catalog,
        profile_id: str | None = None,
    ) -> None:
        self.config = config
        self.profiles = profiles
        #: Each unit's population, or its children's sum for an area: looked up per level.
        self.populations = area_populations(populations, registry)
        self.registry = registry
        self.catalog = catalog
        self.profile_id = profile_id
        sums = {s for p in profiles for s in p.sums_needed()}
        cumulative = {c for p in profiles for c in p.cumulative_needed()}
        self._level_sums = sums
        self._level_cumulative = cumulative
        level_window = max((n for _, n in sums), default=WEEK)
        #: How far after a changed day its effects reach (detector baselines, level window).
        self.reach = max(config.lookback_days, level_window)
        #: Days a series keeps: a day changed ``reach`` days back still re-evaluates whole.
        self.keep_days = 2 * self.reach + WEEK
        self._keys: dict[str, frozenset[str]] = {}
        self._leveled: dict[str, bool] = {}

    def keys(self, dataset: str) -> frozenset[str]:
        """Metric keys (plain totals and the options levels need) kept for ``dataset``."""
        if dataset not in self._keys:
            wanted = set(self.config.metrics(dataset))
            if self.levels_for(dataset):
                wanted |= {m for m, _ in self._level_sums} | self._level_cumulative
            self._keys[dataset] = frozenset(wanted)
        return self._keys[dataset]

    def levels_for(self, dataset: str) -> bool:
        """Whether ``dataset`` carries every metric the level profiles read."""
        if dataset not in self._leveled:
            ds = self.catalog.get(dataset)
            needed = {m for m, _ in self._level_sums} | self._level_cumulative
            self._leveled[dataset] = ds is not None and all(
                ds.metric(key.partition(".")[0]) is not None for key in needed
            )
        return self._leveled[dataset]

    def extract(self, dataset: str, values: Mapping[str, int]) -> dict[str, int]:
        """The kept keys of a report's values, with each metric's options added up."""
        keys = self.keys(dataset)
        out: dict[str, int] = {}
        for key, value in values.items():
            metric, dot, _ = key.partition(".")
            if dot and metric in keys:
                out[metric] = out.get(metric, 0) + value
            if key in keys:
                out[key] = out.get(key, 0) + value
        return out

    def observe(
        self,
        stored: Mapping[str, Any] | None,
        subject_id: str,
        dataset: str,
        day: date,
        rev: Rev,
        values: Mapping[str, int],
        now: datetime,
    ) -> Outcome | None:
        """Put one day's kept values into the subject's series and re-evaluate after it.

        None when the values are stale (an older revision) or the day is too old.
        """
        series = Series.from_json(stored)
        if not series.put(day, rev, values, self.keep_days):
            return None
        out = Outcome(series)
        subject = self._subject(subject_id)
        last = day + timedelta(days=self.reach)
        for d in sorted(d for d in series.days if day <= d <= last):
            self._signals(out, subject, dataset, d, now)
            if self.levels_for(dataset):
                self._levels(out, subject, dataset, d, now)
        return out

    def where(self, unit_id: str) -> dict[str, str | None]:
        """The unit's parent and province, for routing its alerts (sinks/notify/routing.py)."""
        unit = self.registry.get(unit_id)
        if unit is None:
            return {"parent_id": None, "province_id": None}
        return {"parent_id": unit.parent_id, "province_id": unit.province_id}

    def _subject(self, unit_id: str) -> Subject:
        unit = self.registry.get(unit_id)
        if unit is None:
            return Subject(unit_id, unit_id, "district")
        return Subject(unit_id, unit.name, unit.kind.value)

    # -- signals ---------------------------------------------------------------------

    def _signals(
        self, out: Outcome, subject: Subject, dataset: str, day: date, now: datetime
    ) -> None:
        series = out.series
        history = History(series.values(), series.last_positive, series.first_day)
        found = {
            signal_id(f, subject.unit_id): f
            for f in evaluate(self.config, dataset, subject, history, day)
        }
        iso = day.isoformat()
        for sid, finding in found.items():
            mark = series.sent.get(sid)
            if mark is not None and mark["s"] == "active":
                continue
            generation = 0 if mark is None else int(mark["g"]) + 1
            aid = sid if generation == 0 else f"{sid}:raised:{generation}"
            out.alerts.append(_raised(aid, sid, finding, subject, dataset, now))
            out.alerts[-1].details.update(self.where(subject.unit_id))
            series.sent[sid] = {
                "s": "active",
                "g": generation,
                "d": iso,
                "k": "anomaly",
                "vi": finding.message_vi,
                "en": finding.message_en,
            }
        for sid, mark in list(series.sent.items()):
            if mark.get("k") != "anomaly" or mark["d"] != iso or mark["s"] != "active":
                continue
            if sid in found:
                continue
            generation = int(mark["g"]) + 1
            out.alerts.append(_withdrawn(sid, generation, mark, subject, dataset, day, now))
            out.alerts[-1].details.update(self.where(subject.unit_id))
            series.sent[sid] = {**mark, "s": "withdrawn", "g": generation}

    # -- levels ----------------------------------------------------------------------

    def _levels(
        self, out: Outcome, subject: Subject, dataset: str, day: date, now: datetime
    ) -> None:
        profile = self.profiles.for_day(day, self.profile_id)
        if profile is None:
            return
        series = out.series
        periods = ["day", "week"] if day.isoweekday() == 7 else ["day"]
        for period in periods:
            level = self._assess(series, subject, profile, day, period, now)
            out.levels.append(level)
        provisional = out.levels[-len(periods)]
        series.levels[day.isoformat()] = provisional.level
        self._level_change(out, subject, dataset, profile, provisional, now)

    def provisional_level(self, series: Series, subject_id: str, day: date) -> int | None:
        """The provisional level of ``day`` (no alert, nothing recorded): for re-seeding."""
        profile = self.profiles.for_day(day, self.profile_id)
        if profile is None:
            return None
        level = self._assess(series, self._subject(subject_id), profile, day, "day", _EPOCH)
        return level.level

    def _assess(
        self,
        series: Series,
        subject: Subject,
        profile: Profile,
        day: date,
        period: str,
        now: datetime,
    ) -> LevelAssessed:
        sums: dict[str, int] = {}
        reported: dict[int, int] = {}
        for metric, days in profile.sums_needed():
            sums[f"{metric}_{days}d"], reported[days] = series.window(metric, day, days)
        cumulative = {key: series.total(key, day) for key in profile.cumulative_needed()}
        population = self.populations.get(subject.unit_id)
        iso = day.isoformat()
        before = [k for k in series.levels if k < iso]
        previous = series.levels[max(before)] if before else None
        result = profile.assess(
            LevelInputs(population, sums, cumulative, reported, previous_level=previous)
        )
        return LevelAssessed(
            unit_id=subject.unit_id,
            unit_kind=subject.kind,
            level_date=day,
            period=period,
            profile=profile.id,
            level=result.level,
            criteria=result.criteria,
            unconfirmed=result.unconfirmed,
            why_vi=result.why_vi,
            why_en=result.why_en,
            next_vi=result.next_vi,
            next_en=result.next_en,
            assessed_at=now,
        )

    def _level_change(
        self,
        out: Outcome,
        subject: Subject,
        dataset: str,
        profile: Profile,
        level: LevelAssessed,
        now: datetime,
    ) -> None:
        series = out.series
        iso = level.level_date.isoformat()
        before = [k for k in series.levels if k < iso]
        if not before or level.level is None:
            return
        previous = series.levels[max(before)]
        if previous is None or previous == level.level:
            return
        aid = f"level:{profile.id}:{subject.unit_id}:day:{iso}"
        if aid in series.sent:
            return
        out.alerts.append(_level_alert(aid, subject, dataset, profile, previous, level, now))
        out.alerts[-1].details.update(self.where(subject.unit_id))
        series.sent[aid] = {"s": "sent", "g": 0, "d": iso, "k": "level"}


def signal_id(finding: Finding, unit_id: str) -> str:
    """``anomaly:<rule>:<unit>:<metric>:<date>``: one signal per rule, unit, metric and day."""
    return f"anomaly:{finding.rule}:{unit_id}:{finding.metric}:{finding.day.isoformat()}"


def _raised(
    aid: str, sid: str, finding: Finding, subject: Subject, dataset: str, now: datetime
) -> Alert:
    return Alert(
        alert_id=aid,
        kind="anomaly",
        severity=finding.severity,
        dataset=dataset,
        unit_id=subject.unit_id,
        report_date=finding.day,
        raised_at=now,
        message_vi=finding.message_vi,
        message_en=finding.message_en,
        details={
            **finding.details,
            "signal_id": sid,
            "rule": finding.rule,
            "metric": finding.metric,
            "state": "active",
            "unit_kind": subject.kind,
        },
    )


def _withdrawn(
    sid: str,
    generation: int,
    mark: Mapping[str, Any],
    subject: Subject,
    dataset: str,
    day: date,
    now: datetime,
) -> Alert:
    _, rule, _, metric, _ = sid.split(":", 4)
    return Alert(
        alert_id=f"{sid}:withdrawn:{generation}",
        kind="anomaly",
        severity="info",
        dataset=dataset,
        unit_id=subject.unit_id,
        report_date=day,
        raised_at=now,
        message_vi=f"Rút cảnh báo (số liệu đã được sửa, không còn nguyên nhân): {mark['vi']}",
        message_en=f"Withdrawn (the figures were corrected; the cause is gone): {mark['en']}",
        details={
            "signal_id": sid,
            "rule": rule,
            "metric": metric,
            "state": "withdrawn",
            "unit_kind": subject.kind,
        },
    )


def _level_alert(
    aid: str,
    subject: Subject,
    dataset: str,
    profile: Profile,
    previous: int,
    level: LevelAssessed,
    now: datetime,
) -> Alert:
    assert level.level is not None
    up = level.level > previous
    day = level.level_date.strftime("%d/%m/%Y")
    name_vi, name_en = LEVEL_NAMES[level.level]
    verb_vi, verb_en = ("tăng", "rose") if up else ("giảm", "fell")
    return Alert(
        alert_id=aid,
        kind="level",
        severity=("critical" if level.level >= 3 else "warning") if up else "info",
        dataset=dataset,
        unit_id=subject.unit_id,
        report_date=level.level_date,
        raised_at=now,
        message_vi=(
            f"{subject.name}: cấp độ dịch tạm tính ({profile.id}) {verb_vi} từ cấp {previous} "
            f"lên {name_vi} ngày {day}. {level.why_vi}"
            if up
            else f"{subject.name}: cấp độ dịch tạm tính ({profile.id}) {verb_vi} từ cấp "
            f"{previous} xuống {name_vi} ngày {day}. {level.why_vi}"
        ),
        message_en=(
            f"{subject.name}: provisional epidemic level ({profile.id}) {verb_en} from level "
            f"{previous} to {name_en} on {level.level_date.isoformat()}. {level.why_en}"
        ),
        details={
            "profile": profile.id,
            "period": "day",
            "from": previous,
            "to": level.level,
            "unit_kind": subject.kind,
            "unconfirmed": level.unconfirmed,
        },
    )
