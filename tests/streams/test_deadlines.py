"""Deadline states and alerts through a simulated day, driven by a ManualClock."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from contract.clock import FileClock, ManualClock
from contract.datasets import Catalog
from contract.events import Alert, ReportAccepted, ReportRejected, Violation
from contract.registry import Unit
from streams.deadlines import DeadlineWatch, Partial, Reported, UnitState, Window, state_of
from tests.support.deadlines import DAY, DS, TZ, at, small_registry


class Day:
    """The watch plus dict stand-ins for the ledger and the alerts-sent tables."""

    def __init__(self, hold_hours: float = 12) -> None:
        self.catalog = Catalog.load()
        self.watch = DeadlineWatch(small_registry(), self.catalog, TZ, timedelta(hours=hold_hours))
        self.clock = ManualClock(at(8))
        self.ledger: dict[str, Reported] = {}
        self.sent: dict[str, Alert] = {}

    def report(self, unit: str, when: datetime, day: date = DAY) -> None:
        deadline = self.catalog.get(DS).deadline_at(day, TZ)  # type: ignore[union-attr]
        self.ledger[f"{unit}|{DS}|{day}"] = Reported(when, "on_time" if when < deadline else "late")

    def units(self, w: Window) -> list[Unit]:
        return self.watch.expected(w.dataset.code, w.day)

    def look(self) -> tuple[list[Alert], list[Partial]]:
        """One tick over every unit; record what was sent, as the Faust agent does."""
        out = self.watch.evaluate(
            self.clock.now(), self.units, self.ledger.get, self.sent.__contains__
        )
        for a in out.alerts:
            self.sent[a.alert_id] = a
        return out.alerts, [p for p in out.partials if p.dataset == DS]


def ids(alerts: list[Alert]) -> list[str]:
    return sorted(a.alert_id for a in alerts)


def test_state_moves_from_pending_to_missing_and_late() -> None:
    ds = Catalog.load().get(DS)
    assert ds is not None
    w = Window.of(ds, DAY, TZ)
    assert (w.remind_at, w.deadline) == (at(14), at(15))
    assert state_of(None, w, at(13, 59, 59)) is UnitState.PENDING
    assert state_of(None, w, at(14)) is UnitState.DUE_SOON
    assert state_of(None, w, at(15)) is UnitState.MISSING
    assert state_of(Reported(at(15, 20), "late"), w, at(16)) is UnitState.LATE
    assert state_of(Reported(at(14, 59), "on_time"), w, at(16)) is UnitState.ON_TIME


def test_simulated_day_sends_each_alert_once_at_its_instant() -> None:
    day = Day()
    yesterday = DAY - timedelta(days=1)
    for unit in ("164", "165", "166"):
        day.report(unit, at(9, day=yesterday), day=yesterday)
    day.report("164", at(13, 30))
    day.clock.set(at(13, 59))
    assert day.look() == ([], [])  # nothing before the reminder time
    day.clock.set(at(14, 0, 5))
    alerts, partials = day.look()
    assert ids(alerts) == [f"reminder:{DS}:165:{DAY}", f"reminder:{DS}:166:{DAY}"]
    assert {a.raised_at for a in alerts} == {at(14, 0, 5)} and partials == []
    assert "Huyện Định Hóa" in alerts[0].message_vi and "15:00" in alerts[0].message_en
    day.clock.advance(timedelta(minutes=30))
    assert day.look() == ([], [])  # reminders go out once
    day.clock.set(at(15))
    alerts, partials = day.look()
    assert ids(alerts) == [f"missing:{DS}:165:{DAY}", f"missing:{DS}:166:{DAY}"]
    assert {a.severity for a in alerts} == {"warning"}  # all reported the day before
    assert [(p.expected, p.on_time, p.late, p.missing) for p in partials] == [
        (3, 1, 0, ["165", "166"])
    ]
    day.report("165", at(15, 20))
    day.clock.set(at(15, 30))
    alerts, partials = day.look()
    assert alerts == [] and partials[0].late == 1 and partials[0].missing == ["166"]


def test_closed_exempt_and_future_units_are_never_expected() -> None:
    day = Day()
    day.clock.set(at(15, 1))
    alerts, _ = day.look()
    assert {a.unit_id for a in alerts} == {"164", "165", "166"}  # not 167 (closed), 168
    tomorrow = DAY + timedelta(days=1)
    assert all(w.day <= DAY for w in day.watch.windows(at(23, 59)))
    assert all(a.report_date != tomorrow for a in alerts)


def test_missing_two_days_in_a_row_escalates_to_the_parent() -> None:
    day = Day(hold_hours=24)
    yesterday = DAY - timedelta(days=1)
    day.report("164", at(10, day=yesterday), day=yesterday)  # on time yesterday
    day.report("165", at(16, day=yesterday), day=yesterday)  # late yesterday
    day.clock.set(at(15, 0, 1))
    alerts, _ = day.look()
    today = {a.unit_id: a for a in alerts if a.report_date == DAY and a.kind == "missing"}
    assert today["164"].severity == "warning" and not today["164"].details["escalated"]
    for unit in ("165", "166"):
        assert today[unit].severity == "critical"
        assert today[unit].details["address_to"] == "19"
        assert "Tỉnh Thái Nguyên" in today[unit].message_vi


def test_a_deadline_older_than_the_hold_is_left_alone() -> None:
    day = Day(hold_hours=24)
    day.clock.set(at(14, 59))  # yesterday's deadline is 23 h 59 min old: still watched
    assert {a.report_date for a in day.look()[0]} == {DAY, DAY - timedelta(days=1)}
    day.clock.set(at(15, 0, 1))  # now it is not, whatever happens to yesterday
    day.sent.clear()
    assert {a.report_date for a in day.look()[0]} == {DAY}


def test_summary_waits_for_every_partition_then_completes_once() -> None:
    day = Day()
    now = at(15, 0, 2)
    p0 = Partial(DS, DAY, 0, expected=2, on_time=1, missing=["166"])
    p1 = Partial(DS, DAY, 1, expected=1, missing=["165"])
    sent: set[str] = set()
    assert day.watch.summarize({0: p0}, 2, now, sent.__contains__) == []
    (alert,) = day.watch.summarize({0: p0, 1: p1}, 2, now, sent.__contains__)
    assert alert.alert_id == f"summary:{DS}:deadline:{DAY}"
    assert alert.message_en.startswith("2 of 3 units have not reported")
    assert "Huyện Định Hóa, Huyện Võ Nhai" in alert.message_vi
    assert alert.details["missing"] == ["165", "166"]
    sent.add(alert.alert_id)
    assert day.watch.summarize({0: p0, 1: p1}, 2, now, sent.__contains__) == []
    done = {0: Partial(DS, DAY, 0, 2, 1, 1), 1: Partial(DS, DAY, 1, 1, 0, 1)}
    (complete,) = day.watch.summarize(done, 2, at(17), sent.__contains__)
    assert complete.alert_id == f"summary:{DS}:complete:{DAY}"
    assert "1 on time, 2 late" in complete.message_en


def test_a_day_complete_by_the_deadline_gets_one_summary() -> None:
    day = Day()
    (alert,) = day.watch.summarize({0: Partial(DS, DAY, 0, 3, 3)}, 1, at(15), lambda _: False)
    assert alert.message_en.startswith("All 3 units reported")
    assert alert.details["covers"] == [f"summary:{DS}:complete:{DAY}"]
    assert day.watch.summarize({0: Partial(DS, DAY, 0)}, 1, at(15), lambda _: False) == []


def accepted(unit: str, timeliness: str, when: datetime) -> ReportAccepted:
    return ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid4(),
            "dataset": DS,
            "unit_id": unit,
            "report_date": DAY,
            "submitted_at": when,
            "submitted_by": "t",
            "values": {"cases_new": 1},
            "revision": 1,
            "timeliness": timeliness,
            "first_submitted_at": when,
            "deadline": at(15),
            "accepted_at": when,
        }
    )


def test_late_report_alerts_once_and_on_time_never() -> None:
    day = Day()
    assert (
        day.watch.after_accepted(accepted("164", "on_time", at(14)), at(14), day.sent.__contains__)
        is None
    )
    alert = day.watch.after_accepted(
        accepted("165", "late", at(15, 20)), at(15, 20), lambda _: False
    )
    assert alert is not None and alert.alert_id == f"late:{DS}:165:{DAY}"
    assert "15:20" in alert.message_vi and "late" in alert.message_en
    assert (
        day.watch.after_accepted(
            accepted("165", "late", at(16)), at(16), {alert.alert_id}.__contains__
        )
        is None
    )


@pytest.mark.parametrize(
    ("unit", "report_date", "want"),
    [
        ("164", "2021-07-27", f"rejected:{DS}:164:{DAY}"),
        (None, None, "rejected:unknown:unknown:2021-07-27"),
    ],
)
def test_rejection_alerts_name_unit_and_day(
    unit: str | None, report_date: str | None, want: str
) -> None:
    day = Day()
    event = ReportRejected(
        rejection_id=uuid.uuid4(),
        rejected_at=at(9),
        dataset=DS if unit else None,
        unit_id=unit,
        report_date=report_date,
        errors=[Violation(rule_id="r1", severity="error", message_vi="sai", message_en="wrong")],
    )
    alert = day.watch.after_rejected(event, at(9), lambda _: False)
    assert alert is not None and alert.alert_id == want and alert.message_en.endswith("wrong")


def test_file_clock_follows_the_file_and_falls_back(tmp_path: Path) -> None:
    fallback = ManualClock(at(1))
    clock = FileClock(tmp_path / "now", fallback)
    assert clock.now() == at(1)
    clock.set(at(14, 0, 30))
    assert FileClock(tmp_path / "now").now() == at(14, 0, 30)
    clock.set(at(15))
    assert clock.now() == at(15)
