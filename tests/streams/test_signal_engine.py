"""The signal engine over hand-made series: what it raises, withdraws and re-raises, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contract.datasets import Catalog
from contract.errors import ConfigError
from contract.events import Alert
from contract.levels import LevelProfiles
from contract.population import load_population
from contract.registry import Registry
from contract.signal_config import SignalConfig
from streams.series import Series
from streams.signal_watch import areas_above
from streams.signals import Outcome, SignalEngine

DS = "district-daily"
PHU_BINH = "173"  # 121,002 people in the demo's estimates
NOW = datetime(2021, 12, 1, 8, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


def engine_over(
    registry: Registry, catalog: Catalog, level_dataset: str | None = None
) -> SignalEngine:
    return SignalEngine(
        SignalConfig.load(catalog=catalog),
        LevelProfiles.load(),
        load_population(registry),
        registry,
        catalog,
        level_dataset=level_dataset,
    )


@pytest.fixture
def engine(registry: Registry) -> SignalEngine:
    return engine_over(registry, Catalog.load())


class Unit:
    """One unit's series as the worker keeps it, fed a report at a time."""

    def __init__(self, engine: SignalEngine, unit_id: str = PHU_BINH) -> None:
        self.engine = engine
        self.unit_id = unit_id
        self.stored: dict[str, Any] | None = None
        self.revisions: dict[date, int] = {}
        self.sent: list[Alert] = []

    def report(self, day: date, **values: int) -> Outcome | None:
        rev = self.revisions.get(day, 0) + 1
        self.revisions[day] = rev
        return self.replay(day, rev, values)

    def replay(self, day: date, rev: int, values: dict[str, int]) -> Outcome | None:
        kept = self.engine.extract(DS, values)
        out = self.engine.observe(
            self.stored,
            self.unit_id,
            DS,
            day,
            [rev, f"{day}T09:00:0{rev}+07:00", str(rev)],
            kept,
            NOW,
        )
        if out is not None:
            self.stored = out.series.to_json()
            self.sent += out.alerts
        return out

    def ids(self, kind: str = "anomaly", rule: str | None = None) -> list[str]:
        return [
            a.alert_id
            for a in self.sent
            if a.kind == kind and (rule is None or a.details.get("rule") == rule)
        ]


def cases(n: int) -> dict[str, int]:
    return {"cases_new": n, "cases_community": n}


def test_a_late_case_for_an_earlier_day_withdraws_a_later_quiet_days_signal(
    engine: SignalEngine,
) -> None:
    unit, start = Unit(engine), date(2021, 7, 1)
    unit.report(start, **cases(1))
    for n in range(1, 19):
        unit.report(start + timedelta(days=n), **cases(0))
    alert_day = start + timedelta(days=19)
    unit.report(alert_day, **cases(3))
    sid = f"anomaly:quiet_days:{PHU_BINH}:cases_community:{alert_day}"
    assert unit.ids(rule="quiet_days") == [sid]
    # 3 cases after 18 days of none is also an unusual rise (EWMA): a signal of its own.
    assert unit.ids(rule="ewma") == [f"anomaly:ewma:{PHU_BINH}:cases_new:{alert_day}"]
    (raised,) = [a for a in unit.sent if a.alert_id == sid]
    assert raised.details["run_days"] == 18 and "18 ngày" in raised.message_vi
    assert raised.details["province_id"] == "19" and raised.details["state"] == "active"

    # A case found later on day 10 shortens the run to 9 days: the signal goes away.
    unit.report(start + timedelta(days=10), cases_new=1, cases_community=1)
    assert unit.ids(rule="quiet_days") == [sid, f"{sid}:withdrawn:1"]
    withdrawn = unit.sent[-1]
    assert withdrawn.alert_id == f"{sid}:withdrawn:1"
    assert withdrawn.details["state"] == "withdrawn"
    assert withdrawn.message_en.startswith("Withdrawn")


def test_a_signal_withdrawn_and_raised_again_gets_a_new_id_each_time(
    engine: SignalEngine,
) -> None:
    unit, day = Unit(engine), date(2021, 8, 2)
    sid = f"anomaly:unknown_source:{PHU_BINH}:cases_unknown_source:{day}"
    unit.report(day, cases_new=2, cases_unknown_source=2)
    unit.report(day, cases_new=2, cases_unknown_source=0)
    unit.report(day, cases_new=2, cases_unknown_source=1)
    assert unit.ids() == [sid, f"{sid}:withdrawn:1", f"{sid}:raised:2"]


def test_a_re_read_report_sends_nothing_again_and_an_older_revision_changes_nothing(
    engine: SignalEngine,
) -> None:
    unit, day = Unit(engine), date(2021, 8, 2)
    unit.report(day, cases_new=2, cases_unknown_source=2)  # revision 1
    unit.report(day, cases_new=0, cases_unknown_source=0)  # revision 2 withdraws
    again = unit.replay(day, 2, {"cases_new": 0, "cases_unknown_source": 0})
    assert again is not None and again.alerts == []
    assert unit.replay(day, 1, {"cases_new": 2, "cases_unknown_source": 2}) is None
    assert len(unit.sent) == 2


def test_a_unit_moving_from_level_2_to_3_raises_one_alert(engine: SignalEngine) -> None:
    # QĐ 4800 is in force; 121,002 people: 20 per 100,000 is 24.2 cases a week, 50 is 60.5.
    unit, start = Unit(engine), date(2021, 11, 1)
    outs = []
    for n in range(7):  # 4 a day: 28 in the first week, 23.1 per 100,000 -> level 2
        out = unit.report(start + timedelta(days=n), **cases(4))
        assert out is not None
        outs.append(out)
    assert [o.levels[0].level for o in outs] == [1, 1, 1, 1, 1, 1, 2]
    # Sunday 7/11 also gets the official level of its ISO week.
    day, week = outs[-1].levels
    assert (day.period, week.period) == ("day", "week") and week.level == 2
    assert week.profile == "qd-4800"
    assert week.criteria["cases_per_100k_week"] == pytest.approx(23.1, abs=0.05)
    eighth = start + timedelta(days=7)
    out = unit.report(eighth, **cases(40))  # 24 + 40 = 64 a week: 52.9 per 100,000
    assert out is not None and out.levels[0].level == 3
    up = [a for a in unit.sent if a.kind == "level" and a.report_date == eighth]
    assert [(a.details["from"], a.details["to"]) for a in up] == [(2, 3)]
    assert up[0].alert_id == f"level:qd-4800:{PHU_BINH}:day:{eighth}"
    assert up[0].details["parent_id"] == "19" and up[0].severity == "critical"
    assert "cấp 2" in up[0].message_vi and "52,9" in up[0].message_vi
    unit.replay(eighth, 1, cases(40))  # read again: no second alert
    assert unit.ids("level").count(up[0].alert_id) == 1


def test_the_profile_in_force_on_each_day_sets_the_level(engine: SignalEngine) -> None:
    unit = Unit(engine)
    before = unit.report(date(2021, 10, 11), **cases(0))
    after = unit.report(date(2021, 10, 12), **cases(0))
    assert before is not None and after is not None
    assert before.levels[0].profile == "qd-2686"
    assert after.levels[0].profile == "qd-4800"


def test_a_district_rolls_up_into_its_province_and_a_commune_into_both(
    registry: Registry,
) -> None:
    assert areas_above(registry, PHU_BINH) == ["19"]
    commune = next(u for u in registry if u.kind == "commune" and u.district_id == PHU_BINH)
    assert areas_above(registry, commune.unit_id) == [PHU_BINH, "19"]
    assert areas_above(registry, "19") == []


def test_a_day_older_than_the_window_is_not_re_evaluated_but_counts_in_totals(
    engine: SignalEngine,
) -> None:
    unit, start = Unit(engine), date(2021, 8, 1)
    unit.report(start, cases_new=1, cases_community=1, **{"vaccine_dose1.age_18_49": 50})
    last = start + timedelta(days=engine.keep_days + 5)
    unit.report(last, **cases(0))
    assert unit.report(start, **cases(9)) is None  # too old to re-evaluate
    assert unit.stored is not None
    assert unit.stored["c"]["vaccine_dose1.age_18_49"] == 50
    assert unit.stored["lp"]["cases_community"] == start.isoformat()


def test_a_level_is_sent_again_only_when_its_result_changed(engine: SignalEngine) -> None:
    unit, start = Unit(engine), date(2021, 11, 1)
    for n in range(3):
        unit.report(start + timedelta(days=n), **cases(1))
    day = start + timedelta(days=1)
    # A correction that changes nothing the level reads: the day is re-assessed, not re-sent.
    same = unit.replay(day, 2, {"cases_new": 1, "cases_community": 1, "deaths": 0})
    assert same is not None and same.levels == []
    # One that changes the week's sum re-sends that day and the day after it, whose
    # 7-day window reads it, with the new figures.
    moved = unit.replay(day, 3, cases(30))
    assert moved is not None
    assert [lv.level_date for lv in moved.levels] == [day, day + timedelta(days=1)]
    week = [lv.criteria["cases_per_100k_week"] for lv in moved.levels]
    assert week == [pytest.approx(25.6, abs=0.05), pytest.approx(26.4, abs=0.05)]  # 31, 32


def test_days_observed_together_give_what_they_give_one_by_one(engine: SignalEngine) -> None:
    start = date(2021, 7, 1)
    days = {start + timedelta(days=n): ([], cases(6 if n in (3, 9) else 0)) for n in range(12)}
    apart = Unit(engine)
    for day, (_, values) in days.items():
        apart.replay(day, 1, values)
    together = engine.observe_days(None, PHU_BINH, DS, days, NOW)
    assert together is not None
    assert [a.alert_id for a in together.alerts] == apart.ids() + apart.ids("level")
    assert together.series.values() == Series.from_json(apart.stored).values()
    assert together.series.levels == Series.from_json(apart.stored).levels
    # The newest state of each day was sent once, not once per day observed.
    assert len({(lv.level_date, lv.period) for lv in together.levels}) == len(together.levels)


def with_copy_of(catalog: Catalog, code: str, copy: str) -> Catalog:
    """The catalog plus a second dataset with ``code``'s metrics, named ``copy``."""
    raw = catalog.model_dump()
    twin = next(ds for ds in raw["datasets"] if ds["code"] == code)
    raw["datasets"].append({**twin, "code": copy})
    return Catalog.model_validate(raw)


def test_levels_come_from_one_dataset_and_two_candidates_must_be_told_apart(
    registry: Registry,
) -> None:
    # A level is the unit's (its key has no dataset): two datasets feeding it would
    # overwrite each other's levels, so the engine refuses to guess.
    twins = with_copy_of(Catalog.load(), DS, "district-daily-b")
    with pytest.raises(ConfigError, match="BAOCAO_LEVEL_DATASET") as refused:
        engine_over(registry, twins, None)
    assert DS in str(refused.value) and "district-daily-b" in str(refused.value)

    engine = engine_over(registry, twins, "district-daily-b")
    assert not engine.levels_for(DS) and engine.levels_for("district-daily-b")
    day, values = date(2021, 11, 7), engine.extract(DS, cases(4))
    rev = [1, f"{day}T09:00:01+07:00", "1"]
    own = engine.observe(None, PHU_BINH, DS, day, rev, values, NOW)
    other = engine.observe(None, PHU_BINH, "district-daily-b", day, rev, values, NOW)
    assert own is not None and own.levels == []
    assert other is not None and [lv.period for lv in other.levels] == ["day", "week"]


def test_a_named_level_dataset_must_carry_every_metric_the_profiles_read(
    registry: Registry,
) -> None:
    catalog = Catalog.load()
    lacking = next(ds.code for ds in catalog.datasets if ds.code != DS)
    with pytest.raises(ConfigError, match=f"{lacking}.*lacks"):
        engine_over(registry, catalog, lacking)
    assert engine_over(registry, catalog, None).level_dataset == DS
