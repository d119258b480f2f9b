"""--speed: simulated time against wall time, played with a fake clock (nothing sleeps)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contract.events import ReportSubmitted
from producers.pacing import Playback, SpeedMap, play, window

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2021, 7, 27, 8, 0, tzinfo=TZ)


class FakeTime:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self, at: float = 1000.0) -> None:
        self.now = at
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def report(at: datetime) -> ReportSubmitted:
    return ReportSubmitted(
        report_id=uuid.uuid4(),
        dataset="district-daily",
        unit_id="173",
        report_date=at.date(),
        submitted_at=at,
        submitted_by="test",
        values={"cases_new": 1},
    )


def test_speed_maps_wall_seconds_to_simulated_seconds_and_back() -> None:
    speed = SpeedMap(START, wall_start=1000.0, speed=3600)
    assert speed.sim_at(1000.0) == START
    assert speed.sim_at(1001.0) == START + timedelta(hours=1)
    assert speed.sim_at(1024.0) == START + timedelta(days=1)  # a day in 24 s
    assert speed.wall_at(START + timedelta(hours=7)) == pytest.approx(1007.0)
    assert speed.sim_at(speed.wall_at(START + timedelta(minutes=90))) == START + timedelta(
        minutes=90
    )


def test_a_speed_map_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        SpeedMap(START, 0.0, 0)
    with pytest.raises(ValueError, match="zone-aware"):
        SpeedMap(datetime(2021, 7, 27, 8), 0.0, 60)


def test_play_publishes_each_report_once_its_time_has_come() -> None:
    fake = FakeTime()
    at = [START + timedelta(hours=h, minutes=m) for h, m in ((2, 0), (6, 59), (7, 0), (9, 30))]
    reports = [report(t) for t in at]
    end = START + timedelta(hours=10)
    clock: list[datetime] = []
    published: list[tuple[datetime, list[ReportSubmitted]]] = []
    speed = SpeedMap(START, fake.monotonic(), speed=600)  # ten simulated minutes a second

    def publish(batch: list[ReportSubmitted]) -> None:
        published.append((speed.sim_at(fake.monotonic()), batch))

    sent = play(Playback(reports, speed, end, clock.append, publish, fake.monotonic, fake.sleep))
    assert sent == 4
    assert [r for _, batch in published for r in batch] == reports  # each once, in order
    for sim_now, batch in published:
        for r in batch:
            # Not before its time, and at most one tick (0.25 s = 150 simulated s) after.
            assert r.submitted_at <= sim_now < r.submitted_at + timedelta(seconds=150)
    assert clock == sorted(clock) and clock[0] == START and clock[-1] == end
    assert fake.now - 1000.0 == pytest.approx(10 * 3600 / 600, abs=0.25)  # 10 h in 60 s
    assert max(fake.sleeps) <= 0.25


def test_the_clock_never_passes_a_report_before_it_is_published() -> None:
    """Else the worker would call a report missing that was on time."""
    fake = FakeTime()
    deadline = START + timedelta(hours=7)
    on_time = report(deadline - timedelta(seconds=1))
    clock: list[datetime] = []
    published_when: list[datetime] = []
    speed = SpeedMap(START, fake.monotonic(), speed=7200)
    play(
        Playback(
            [on_time],
            speed,
            deadline + timedelta(minutes=1),
            clock.append,
            lambda batch: published_when.append(clock[-1] if clock else START),
            fake.monotonic,
            fake.sleep,
        )
    )
    assert published_when and published_when[0] < on_time.submitted_at


def test_window_runs_from_the_first_morning_to_after_the_last_deadline() -> None:
    days = [date(2021, 7, 26), date(2021, 7, 27)]
    deadlines = [datetime(2021, 7, 27, 15, 0, tzinfo=TZ)]
    reports = [report(datetime(2021, 7, 26, 10, 0, tzinfo=TZ))]
    start, end = window(reports, days, deadlines, TZ)
    assert start == datetime(2021, 7, 26, 8, 0, tzinfo=TZ)
    assert end == datetime(2021, 7, 27, 15, 1, tzinfo=TZ)  # the missing alerts fire first
    late = [*reports, report(datetime(2021, 7, 27, 19, 0, tzinfo=TZ))]
    assert window(late, days, deadlines, TZ)[1] == datetime(2021, 7, 27, 19, 1, tzinfo=TZ)
