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
from contract.errors import ConfigError
from contract.events import Alert, LevelAssessed
from contract.levels import LEVEL_NAMES, LevelInputs, LevelProfiles, LevelResult, Profile
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
        level_dataset: str | None = None,
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
        #: Every metric key the level profiles read (weekly sums and cumulative totals).
        self._level_keys = frozenset({m for m, _ in sums} | cumulative)
        level_window = max((n for _, n in sums), default=WEEK)
        #: How far after a changed day its effects reach (detector baselines, level window).
        self.reach = max(config.lookback_days, level_window)
        #: Days a series keeps: a day changed ``reach`` days back still re-evaluates whole.
        self.keep_days = 2 * self.reach + WEEK
        self._keys: dict[str, frozenset[str]] = {}
        self._subjects: dict[str, Subject] = {}
        #: The one dataset levels are assessed from. A level belongs to a unit, not to a
        #: dataset (``LevelAssessed.key``, the series' level marks): two datasets feeding
        #: levels would overwrite each other's (tests/streams/test_signal_engine.py).
        self.level_dataset = self._level_dataset(level_dataset) if len(profiles) else None

    def keys(self, dataset: str) -> frozenset[str]:
        """Metric keys (plain totals and the options levels need) kept for ``dataset``."""
        if dataset not in self._keys:
            wanted = set(self.config.metrics(dataset))
            if self.levels_for(dataset):
                wanted |= self._level_keys
            self._keys[dataset] = frozenset(wanted)
        return self._keys[dataset]

    def levels_for(self, dataset: str) -> bool:
        """Whether levels are assessed from ``dataset`` (``level_dataset``)."""
        return dataset == self.level_dataset

    def _level_dataset(self, named: str | None) -> str | None:
        """The named dataset, or the only one carrying every metric the profiles read.

        None when no dataset carries them (no levels); a configuration error when the
        named one lacks a metric, or when several carry them all and none is named.
        """
        needed = self._level_keys

        def lacks(code: str) -> list[str]:
            ds = self.catalog.get(code)
            if ds is None:
                return sorted(needed)
            return sorted(k for k in needed if ds.metric(k.partition(".")[0]) is None)

        if named is not None:
            missing = lacks(named)
            if missing:
                raise ConfigError(
                    f"bộ số liệu cấp độ {named!r} không có {', '.join(missing)} / level "
                    f"dataset {named!r} lacks {', '.join(missing)} (BAOCAO_LEVEL_DATASET)"
                )
            return named
        carrying = [ds.code for ds in self.catalog.datasets if not lacks(ds.code)]
        if len(carrying) > 1:
            raise ConfigError(
                f"nhiều bộ số liệu đủ chỉ số để tính cấp độ ({', '.join(carrying)}): chọn "
                f"một bằng BAOCAO_LEVEL_DATASET / several datasets carry every metric the "
                f"level profiles read ({', '.join(carrying)}): name one with "
                "BAOCAO_LEVEL_DATASET"
            )
        return carrying[0] if carrying else None

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
        return self.observe_days(stored, subject_id, dataset, {day: (rev, values)}, now)

    def observe_days(
        self,
        stored: Mapping[str, Any] | None,
        subject_id: str,
        dataset: str,
        days: Mapping[date, tuple[Rev, Mapping[str, int]]],
        now: datetime,
    ) -> Outcome | None:
        """Put several days' values into the series, then re-evaluate once from the earliest.

        Equal to observing them one by one, in day order, except that a day between two
        changed days is evaluated once, and only the last state of each day is sent.
        None when nothing was newer than what the series held.
        """
        series = Series.from_json(stored)
        changed = [d for d in sorted(days) if series.put(d, *days[d], self.keep_days)]
        if not changed:
            return None
        out = Outcome(series)
        subject = self._subject(subject_id)
        first, last = changed[0], changed[-1] + timedelta(days=self.reach)
        leveled = self.levels_for(dataset)
        for d in sorted(d for d in series.days if first <= d <= last):
            self._signals(out, subject, dataset, d, now)
            if leveled:
                self._levels(out, subject, dataset, d, now)
        return out

    def where(self, unit_id: str) -> dict[str, str | None]:
        """The unit's parent and province, for routing its alerts (sinks/notify/routing.py)."""
        unit = self.registry.get(unit_id)
        if unit is None:
            return {"parent_id": None, "province_id": None}
        return {"parent_id": unit.parent_id, "province_id": unit.province_id}

    def _subject(self, unit_id: str) -> Subject:
        known = self._subjects.get(unit_id)
        if known is not None:
            return known
        self._subjects[unit_id] = self._describe(unit_id)
        return self._subjects[unit_id]

    def _describe(self, unit_id: str) -> Subject:
        unit = self.registry.get(unit_id)
        if unit is None:
            return Subject(unit_id, unit_id, "district", self.where(unit_id))
        return Subject(unit_id, unit.name, unit.kind.value, self.where(unit_id))

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
            series.sent[sid] = {**mark, "s": "withdrawn", "g": generation}

    # -- levels ----------------------------------------------------------------------

    def _levels(
        self, out: Outcome, subject: Subject, dataset: str, day: date, now: datetime
    ) -> None:
        """Assess the day (and, on a Sunday, its week); send what changed since last sent.

        A result equal to the one last sent for the same day and period is not sent again
        (``Series.assessed``): a province re-assessed as each of its communes reports
        mostly gives the level it already had.
        """
        profile = self.profiles.for_day(day, self.profile_id)
        if profile is None:
            return
        series = out.series
        iso = day.isoformat()
        previous = series.level_before(iso)
        # The week's official level (on its Sunday) reads the same 7 days as the day's.
        result = self._result(series, subject, profile, day, previous)
        fingerprint = result.fingerprint()
        for period in ["day", "week"] if day.isoweekday() == 7 else ["day"]:
            mark = f"{iso}|{period}"
            if series.assessed.get(mark) != fingerprint:
                series.assessed[mark] = fingerprint
                out.levels.append(_assessed(subject, profile, day, period, result, now))
        series.levels[iso] = result.level
        if previous is not None and result.level is not None and previous != result.level:
            aid = f"level:{profile.id}:{subject.unit_id}:day:{iso}"
            if aid not in series.sent:
                out.alerts.append(
                    _level_alert(aid, subject, dataset, profile, previous, day, result, now)
                )
                series.sent[aid] = {"s": "sent", "g": 0, "d": iso, "k": "level"}

    def provisional_level(self, series: Series, subject_id: str, day: date) -> int | None:
        """The provisional level of ``day`` (no alert, nothing recorded): for re-seeding."""
        profile = self.profiles.for_day(day, self.profile_id)
        if profile is None:
            return None
        previous = series.level_before(day.isoformat())
        return self._result(series, self._subject(subject_id), profile, day, previous).level

    def _result(
        self,
        series: Series,
        subject: Subject,
        profile: Profile,
        day: date,
        previous: int | None,
    ) -> LevelResult:
        sums: dict[str, int] = {}
        reported: dict[int, int] = {}
        for metric, days in profile.sums_needed():
            sums[f"{metric}_{days}d"], reported[days] = series.window(metric, day, days)
        cumulative = {key: series.total(key, day) for key in profile.cumulative_needed()}
        population = self.populations.get(subject.unit_id)
        return profile.assess(
            LevelInputs(population, sums, cumulative, reported, previous_level=previous)
        )


def _assessed(
    subject: Subject, profile: Profile, day: date, period: str, result: LevelResult, now: datetime
) -> LevelAssessed:
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
            **subject.route,
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
            **subject.route,
        },
    )


def _level_alert(
    aid: str,
    subject: Subject,
    dataset: str,
    profile: Profile,
    previous: int,
    day: date,
    level: LevelResult,
    now: datetime,
) -> Alert:
    assert level.level is not None
    up = level.level > previous
    shown = day.strftime("%d/%m/%Y")
    name_vi, name_en = LEVEL_NAMES[level.level]
    verb_vi, verb_en = ("tăng", "rose") if up else ("giảm", "fell")
    return Alert(
        alert_id=aid,
        kind="level",
        severity=("critical" if level.level >= 3 else "warning") if up else "info",
        dataset=dataset,
        unit_id=subject.unit_id,
        report_date=day,
        raised_at=now,
        message_vi=(
            f"{subject.name}: cấp độ dịch tạm tính ({profile.id}) {verb_vi} từ cấp {previous} "
            f"lên {name_vi} ngày {shown}. {level.why_vi}"
            if up
            else f"{subject.name}: cấp độ dịch tạm tính ({profile.id}) {verb_vi} từ cấp "
            f"{previous} xuống {name_vi} ngày {shown}. {level.why_vi}"
        ),
        message_en=(
            f"{subject.name}: provisional epidemic level ({profile.id}) {verb_en} from level "
            f"{previous} to {name_en} on {day.isoformat()}. {level.why_en}"
        ),
        details={
            "profile": profile.id,
            "period": "day",
            "from": previous,
            "to": level.level,
            "unit_kind": subject.kind,
            "unconfirmed": level.unconfirmed,
            **subject.route,
        },
    )
