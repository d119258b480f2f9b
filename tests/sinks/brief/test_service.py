"""The brief service on a real broker, a manual clock and a real chDB warehouse.

Its regular look is made slow (a minute) so that what happens within seconds is the
alerts' doing: the deadline watch's summary at the deadline, a late alert later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from baocao.broker import EmbeddedBroker, create_topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import Alert
from contract.registry import Registry
from contract.settings import Settings
from contract.topics import TopicSpec
from sinks.brief.archive import NATIONAL, Archive, Version
from sinks.brief.maker import BriefMaker, Due
from sinks.brief.service import BriefService, Schedule
from tests.sinks.brief import replay
from tests.sinks.brief.beside import BRIEF_AT, after, arrive, held_back, own_database
from warehouse.client import Warehouse

TN, DAY = replay.THAI_NGUYEN, replay.DAY
AREAS = ["12", TN, "20", "24", "30", NATIONAL]  # the demo registry's provinces, the nation


def alert(kind: str, unit: str, at: datetime, day: date = DAY) -> Alert:
    return Alert.model_validate(
        {
            "alert_id": f"{kind}:district-daily:{unit}:{day}",
            "kind": kind,
            "severity": "info",
            "dataset": "district-daily",
            "unit_id": unit,
            "report_date": day,
            "raised_at": at,
            "message_vi": "…",
            "message_en": "…",
            "details": {"province_id": TN},
        }
    )


def until(check: Callable[[], bool], seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


class Running:
    """A brief service in a thread, as `baocao brief-service` runs it, and its stop."""

    def __init__(self, service: BriefService, topic: str) -> None:
        self.service, self.stop = service, threading.Event()
        self.thread = threading.Thread(target=service.run, args=(self.stop, topic), daemon=True)
        self.thread.start()
        assert service.ready.wait(30), "the service never followed the alerts topic"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def own(warehouse: Warehouse, registry: Registry, replayed: replay.Replayed) -> Iterator[Warehouse]:
    with own_database(warehouse, registry, replayed) as wh:
        yield wh


@pytest.mark.integration
def test_one_version_at_15_05_a_second_after_a_late_report_none_after_a_restart(
    broker: EmbeddedBroker,
    unique: str,
    own: Warehouse,
    replayed: replay.Replayed,
    tmp_path: Path,
) -> None:
    topic = f"alerts-{unique}"
    create_topics(broker.bootstrap, [TopicSpec(topic, 2)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)

    def publish(a: Alert) -> None:
        producer.send(topic, key=a.unit_id.encode(), value=a.to_json()).get(10)

    # A one-hour hold: the days before are past their first version, so only the
    # reporting day is in play.
    settings = Settings(broker=broker.bootstrap, brief_dir=tmp_path, watch_hold_hours=1.0)
    registry, catalog = Registry.load(), Catalog.load()
    clock = ManualClock(BRIEF_AT - timedelta(seconds=1))
    archive = Archive(tmp_path, own)

    def start() -> Running:
        maker = BriefMaker(own, registry, catalog, archive, replay.TZ, clock)
        return Running(BriefService(settings, catalog, maker, clock, interval=60.0), topic)

    def versions() -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for v in archive.versions(DAY, DAY):
            out.setdefault(v.area, []).append(v.version)
        return out

    running = start()
    try:
        # The deadline passed at 15:00 (the watch's summary), but the brief waits for 15:05.
        publish(alert("summary", "district-daily", BRIEF_AT - timedelta(minutes=5)))
        time.sleep(3)
        assert versions() == {}, "nothing before 15:05"

        clock.set(BRIEF_AT)
        publish(alert("summary", "district-daily", BRIEF_AT))  # any alert hurries a look
        assert until(lambda: len(versions()) == len(AREAS)), versions()
        assert versions() == {area: [1] for area in AREAS}

        late = held_back(replayed)  # Phổ Yên's report at 18:06, after the brief
        arrive(own, late)
        clock.set(after(late))
        publish(alert("late", late[0].unit_id, after(late)))
        assert until(lambda: versions().get(TN) == [2, 1]), versions()
        assert until(lambda: versions().get(NATIONAL) == [2, 1]), versions()
        assert running.service.made[-2:] == [
            v for v in archive.versions(DAY, DAY) if v.version == 2
        ]
    finally:
        running.close()

    # Restart: the archive says what exists; nothing is made again, now or later.
    before = versions()
    running = start()
    try:
        clock.advance(timedelta(minutes=30))
        publish(alert("late", late[0].unit_id, clock.now()))
        time.sleep(3)
        assert running.service.made == []
        assert versions() == before
        for area in AREAS:
            for n in before[area]:
                assert (tmp_path / area / DAY.isoformat() / f"v{n}.pdf").is_file()
    finally:
        running.close()
        producer.close()


def test_a_day_is_due_at_its_deadline_plus_the_delay_and_watched_for_a_week() -> None:
    schedule = Schedule(Settings(brief_delay_minutes=5), Catalog.load())
    assert schedule.due_at(DAY) == datetime(2021, 7, 27, 15, 5, tzinfo=replay.TZ)
    watched, fresh = schedule.days(BRIEF_AT - timedelta(seconds=1))
    assert DAY not in watched and DAY - timedelta(days=1) in fresh
    watched, fresh = schedule.days(BRIEF_AT)
    assert watched == [DAY - timedelta(days=n) for n in range(7, -1, -1)]
    assert fresh == {DAY}  # yesterday's first version was due until 15:05 today
    later = Schedule(Settings(brief_delay_minutes=30), Catalog.load())
    assert later.due_at(DAY).strftime("%H:%M") == "15:30"
    # A late report for a day no longer watched puts it back (never for a first version).
    old = DAY - timedelta(days=20)
    watched, fresh = schedule.days(BRIEF_AT, [old])
    assert old in watched and old not in fresh


def test_a_late_alert_brings_its_day_back_and_other_alerts_only_hurry() -> None:
    service = BriefService(Settings(), Catalog.load(), maker=None, clock=ManualClock(BRIEF_AT))  # type: ignore[arg-type]
    old = DAY - timedelta(days=20)
    assert service.observe(alert("late", "172", BRIEF_AT, old)) is True
    assert list(service.extra) == [old]
    assert service.observe(alert("summary", "district-daily", BRIEF_AT)) is True
    assert service.observe(alert("missing", "172", BRIEF_AT)) is False
    assert list(service.extra) == [old]


class MovingData:
    """A maker whose one area's data moves while a test says so."""

    def __init__(self) -> None:
        self.mark, self.calls = "a", 0

    def pending(self, days: Sequence[date]) -> list[Due]:
        return [Due(TN, DAY, self.mark, 1)]

    def make(self, area: str, day: date) -> Version | None:
        self.calls += 1
        return None

    def versions(self, first: date, last: date, area: str | None = None) -> list[Version]:
        return []


def test_data_still_moving_waits_one_look_so_a_burst_makes_one_version() -> None:
    maker = MovingData()
    service = BriefService(Settings(), Catalog.load(), maker, ManualClock(BRIEF_AT))
    service.tick()
    maker.mark = "b"  # more late reports came in between two looks
    service.tick()
    assert maker.calls == 0 and service.settling
    service.tick()  # nothing moved since the last look
    assert maker.calls == 1 and not service.settling


class Empty(MovingData):
    """A warehouse with nothing yet for the day (a stack's first start), then data."""

    def __init__(self) -> None:
        super().__init__()
        self.mark = ""
        self.made: list[str] = []

    def pending(self, days: Sequence[date]) -> list[Due]:
        return [Due("20", DAY, "", 0), Due(NATIONAL, DAY, self.mark, 0)]

    def make(self, area: str, day: date) -> Version | None:
        self.made.append(area)
        return None


def test_a_day_nobody_anywhere_reported_waits_for_data_but_a_silent_province_does_not() -> None:
    maker = Empty()
    service = BriefService(Settings(), Catalog.load(), maker, ManualClock(BRIEF_AT))
    service.tick(), service.tick()
    assert maker.made == []
    maker.mark = "7/2021-07-27 08:01:00"  # the history arrived; Lạng Sơn still has nothing
    service.tick(), service.tick()
    assert maker.made == ["20", NATIONAL]
