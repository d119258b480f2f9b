"""A batch of the signal agent: units' own days and areas' sums (streams/roll_up.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bench.signal_replay import Store
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from streams.roll_up import Update, evaluate, observe_own, roll_up
from streams.signal_watch import engine_of
from streams.signals import SignalEngine

DS = "district-daily"
DAY = date(2021, 7, 27)
NOW = datetime(2021, 7, 27, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine() -> SignalEngine:
    return engine_of(Settings(), Registry.load(), Catalog.load())


def up(child: str, rev: int, cases: int, day: date = DAY) -> Update:
    return Update(child, DS, day, [rev, f"t{rev}", f"{child}-{rev}"], {"cases_new": cases})


def test_an_area_adds_up_its_childrens_newest_revisions_only(engine: SignalEngine) -> None:
    children, series = Store(), Store()

    def total(*updates: Update) -> int | None:
        out = roll_up(engine, "19", list(updates), children, series, NOW)
        for key, outcome in out.outcomes:
            series[key] = outcome.series.to_json()
        return series["19|" + DS]["d"][DAY.isoformat()][1]["cases_new"] if out.outcomes else None

    assert total(up("173", 1, 3), up("164", 1, 4)) == 7
    assert total(up("173", 2, 1)) == 5  # a correction replaces 173's day
    assert total(up("173", 1, 3)) is None  # an older revision arriving late changes nothing
    # In one batch the newest revision wins whatever the order it came in.
    assert total(up("164", 3, 10), up("164", 2, 99)) == 11
    assert total(up("164", 3, 10)) == 11  # read again after a crash: applied again, same sum


def test_a_batch_evaluates_each_area_once_from_its_earliest_changed_day(
    engine: SignalEngine,
) -> None:
    children, series = Store(), Store()
    late = DAY - timedelta(days=3)
    batch = [up("173", 1, 2), up("164", 1, 1), up("173", 1, 6, late)]
    rolled = roll_up(engine, "19", batch, children, series, NOW)
    ((key, outcome),) = rolled.outcomes
    assert key == "19|" + DS
    assert sorted(outcome.series.days) == [late, DAY]
    assert outcome.series.days[DAY][1]["cases_new"] == 3
    assert set(children) == {f"19|{DS}|{late}", f"19|{DS}|{DAY}"}
    # One level per day evaluated (QĐ 2686 is in force), not one per update.
    assert sorted(lv.level_date for lv in outcome.levels) == [late, DAY]
    # The area passes each changed day up as one child, its totals without a revision.
    assert sorted((u.child, u.day, u.rev, u.values["cases_new"]) for u in rolled.totals) == [
        ("19", late, [], 6),
        ("19", DAY, [], 3),
    ]


def test_days_the_area_no_longer_keeps_are_forgotten(engine: SignalEngine) -> None:
    children, series = Store(), Store()
    old = DAY - timedelta(days=engine.keep_days + 3)
    for batch in ([up("173", 1, 1, old)], [up("173", 1, 1)]):
        for key, outcome in roll_up(engine, "19", batch, children, series, NOW).outcomes:
            series[key] = outcome.series.to_json()
    assert set(children) == {f"19|{DS}|{DAY}"}


def test_an_area_s_totals_replace_the_ones_it_passed_up_before(engine: SignalEngine) -> None:
    children, series = Store(), Store()
    district = [Update("173", DS, DAY, [], {"cases_new": n}) for n in (5, 2)]
    for total in district:  # two batches of Phú Bình, in the order they were sent
        roll_up(engine, "19", [total], children, series, NOW)
    assert children[f"19|{DS}|{DAY}"] == {"173": [[], {"cases_new": 2}]}


def test_a_unit_s_own_days_go_into_its_series_and_on_to_its_area(engine: SignalEngine) -> None:
    series = Store()
    late = DAY - timedelta(days=2)
    batch = [up("173", 2, 6), up("173", 1, 9), up("173", 1, 1, late)]
    rolled = observe_own(engine, "173", batch, series, NOW)
    ((key, outcome),) = rolled.outcomes  # one evaluation for the batch
    assert key == "173|" + DS
    assert {d: v["cases_new"] for d, (_, v) in outcome.series.days.items()} == {DAY: 6, late: 1}
    # Each day is passed up once, with the revision the unit's series took.
    assert sorted((u.day, u.rev[0], u.values["cases_new"]) for u in rolled.totals) == [
        (late, 1, 1),
        (DAY, 2, 6),
    ]
    series[key] = outcome.series.to_json()
    stale = observe_own(engine, "173", [up("173", 1, 9)], series, NOW)
    assert stale.outcomes == [] and stale.totals == []  # an older revision: nothing moves
    too_old = DAY - timedelta(days=engine.keep_days + 1)
    gone = observe_own(engine, "173", [up("173", 1, 4, too_old)], series, NOW)
    assert gone.totals == []  # a day the unit no longer keeps is not passed to its area


def test_an_area_s_own_report_is_one_of_its_children(engine: SignalEngine) -> None:
    """A district that reports a dataset its communes report too keeps one series: the sum.

    With its own days in a series apart, both would be stored under ``173|<dataset>``
    (and raise signals and levels under the same ids), each overwriting the other.
    """
    children, series = Store(), Store()
    commune = "05911"  # Xã Bàn Đạt, in Phú Bình (173)
    batch = [up("173", 1, 2), up(commune, 1, 5)]
    rolled = evaluate(engine, "173", True, batch, children, series, NOW)
    ((key, outcome),) = rolled.outcomes
    assert key == "173|" + DS
    assert outcome.series.days[DAY][1]["cases_new"] == 7
    assert children[f"173|{DS}|{DAY}"] == {
        "173": [[1, "t1", "173-1"], {"cases_new": 2}],
        commune: [[1, "t1", f"{commune}-1"], {"cases_new": 5}],
    }
    series[key] = outcome.series.to_json()
    # Its correction replaces only its own part; the sum goes up as the area's day.
    again = evaluate(engine, "173", True, [up("173", 2, 0)], children, series, NOW)
    assert [(u.child, u.rev, u.values["cases_new"]) for u in again.totals] == [("173", [], 5)]
    # A commune is never an area: its own days go into its own series.
    own = evaluate(engine, commune, False, [up(commune, 1, 5)], children, series, NOW)
    assert [key for key, _ in own.outcomes] == [f"{commune}|{DS}"]
