"""The brief service: each area's daily brief after the deadline, a new version when late data
changes it.

A plain Kafka consumer (as the notifier) on the stack's clock. The clock decides: a day's
briefs are due at its latest dataset deadline plus ``brief_delay_minutes`` (15:05 by
default), and a day stays watched for late reports and corrections for
``correction_window_days``. The alerts topic only hurries it: a ``summary`` (a deadline
passed) or a ``late`` alert (a late report arrived) makes it look within a second rather
than at its next interval, and a late report for a day no longer watched puts that day
back under watch. It keeps no state of its own that matters: before every version the
maker reads what the archive already holds, so a restart neither repeats nor skips one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from kafka import KafkaConsumer, TopicPartition
from pydantic import ValidationError

from contract import topics
from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import BaocaoError
from contract.events import Alert
from contract.kafka_security import client_kwargs
from contract.settings import Settings
from sinks.brief.archive import NATIONAL, Version
from sinks.brief.maker import Due

log = logging.getLogger(__name__)

#: Days put back under watch by late alerts, at most (the oldest is dropped first).
EXTRA_DAYS = 64


class Maker(Protocol):
    """Where versions are made: ``BriefMaker`` on an open warehouse, or the warehouse service."""

    def pending(self, days: Sequence[date]) -> list[Due]: ...

    def make(self, area: str, day: date) -> Version | None: ...

    def versions(self, first: date, last: date, area: str | None = None) -> list[Version]: ...


class Deliver(Protocol):
    def deliver(self, version: Version) -> Any: ...


class Schedule:
    """When each day's briefs are due, and which days are watched at an instant."""

    def __init__(self, settings: Settings, catalog: Catalog) -> None:
        self.catalog, self.tz = catalog, settings.tz
        self.delay = timedelta(minutes=settings.brief_delay_minutes)
        self.hold = timedelta(hours=settings.watch_hold_hours)  # a first version this late
        self.window = settings.correction_window_days

    def due_at(self, day: date) -> datetime:
        """The day's last deadline plus the delay: 15:05 local with the defaults."""
        return max(ds.deadline_at(day, self.tz) for ds in self.catalog.datasets) + self.delay

    def days(self, now: datetime, extra: Sequence[date] = ()) -> tuple[list[date], set[date]]:
        """(Watched days, oldest first; those of them still young enough for a first version)."""
        today = now.astimezone(self.tz).date()
        # A dataset due days after its date (deadline_day_offset) keeps the window as long.
        back = self.window + max(ds.deadline_day_offset for ds in self.catalog.datasets)
        recent = [today - timedelta(days=n) for n in range(back + 1)]
        watched = sorted({d for d in [*recent, *extra] if self.due_at(d) <= now})
        fresh = {d for d in watched if now < self.due_at(d) + self.hold}
        return watched, fresh


class BriefService:
    """Make, archive and deliver versions of the daily briefs as the clock and alerts say."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        maker: Maker,
        clock: Clock,
        deliverer: Deliver | None = None,
        interval: float = 5.0,
        settle: float = 2.0,
        retry_after: float = 60.0,
    ) -> None:
        self.settings, self.maker, self.clock = settings, maker, clock
        self.schedule = Schedule(settings, catalog)
        self.deliverer = deliverer
        self.interval, self.settle, self.retry_after = interval, settle, retry_after
        # An area's mark at the previous look: a version is made only from data that did
        # not move between two looks, so a burst of late reports (or a history still
        # being loaded) makes one version, not one per look.
        self.marks: dict[tuple[str, date], str] = {}
        self.settling = False  # some area's data moved at the last look
        self.extra: OrderedDict[date, None] = OrderedDict()  # days late alerts brought back
        self.failed: dict[tuple[str, date], float] = {}  # (area, day) -> monotonic retry time
        self.made: list[Version] = []  # every version this process made, oldest first
        self._caught_up = False
        self.ready = threading.Event()  # set once alerts are followed (tests wait for it)

    def tick(self) -> list[Version]:
        """Look once: make every due version, deliver it; return what was made."""
        now = self.clock.now()
        watched, fresh = self.schedule.days(now, list(self.extra))
        if not watched:
            return []
        if not self._caught_up and self.deliverer is not None:
            self._catch_up(fresh)
        made: list[Version] = []
        self.settling = False
        if len(self.marks) > 10_000:  # only the watched days matter; they are few
            self.marks.clear()
        dues = self.maker.pending(watched)
        # A day nobody anywhere reported yet: the warehouse is empty or still loading
        # (a stack's first start), not a day worth a brief of zeros.
        empty = {d.day for d in dues if d.area == NATIONAL and not d.mark}
        for due in dues:
            if due.version == 0 and (due.day not in fresh or due.day in empty):
                continue  # an old day gets no first version now; an empty one not yet
            if self.failed.get((due.area, due.day), 0.0) > time.monotonic():
                continue
            if self.marks.get((due.area, due.day)) != due.mark:
                self.marks[(due.area, due.day)] = due.mark
                self.settling = True
                continue
            try:
                version = self.maker.make(due.area, due.day)
            except Exception:  # one area's failure must not hold up the others
                log.exception("brief %s %s failed; retrying later", due.area, due.day)
                self.failed[(due.area, due.day)] = time.monotonic() + self.retry_after
                continue
            self.failed.pop((due.area, due.day), None)
            if version is None:
                continue
            log.info(
                "brief %s made (%d/%d units)",
                version.path,
                version.units_reported,
                version.units_expected,
            )
            made.append(version)
            if self.deliverer is not None:
                self.deliverer.deliver(version)
        self.made += made
        return made

    def _catch_up(self, fresh: set[date]) -> None:
        """Deliver the newest versions of recent days a crash may have left unsent."""
        if fresh:
            newest: dict[tuple[str, date], Version] = {}
            for v in self.maker.versions(min(fresh), max(fresh)):
                if (v.area, v.report_date) not in newest:  # listed newest version first
                    newest[(v.area, v.report_date)] = v
            for version in newest.values():
                assert self.deliverer is not None
                self.deliverer.deliver(version)  # a no-op for one already delivered
        self._caught_up = True

    def observe(self, alert: Alert) -> bool:
        """Take note of an alert; True when it is worth looking at once."""
        if alert.kind == "late":
            self.extra[alert.report_date] = None
            self.extra.move_to_end(alert.report_date)
            while len(self.extra) > EXTRA_DAYS:
                self.extra.popitem(last=False)
            return True
        return alert.kind == "summary"

    def new_consumer(self, topic: str) -> Any:
        """A consumer at the end of every partition of ``topic``, positions resolved.

        No group: nothing is committed and each start reads from the end. What happened
        while the service was down is in the warehouse, which is where the maker looks.
        """
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=self.settings.fetch_wait_ms,
            **client_kwargs(self.settings),
        )
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not parts:
            log.warning(
                "brief service: topic %s has no partitions; following the clock only", topic
            )
        consumer.assign(parts)
        consumer.seek_to_end(*parts)
        for part in parts:
            consumer.position(part)  # resolved now: every alert from here on is seen
        return consumer

    def run(self, stop: threading.Event, topic: str = topics.ALERTS) -> None:
        """Consume alerts and look at the briefs until ``stop`` is set.

        The next look is ``interval`` away, or ``settle`` when data is moving or an alert
        came (time for the sink to write the late report).
        """
        consumer = self.new_consumer(topic)
        self.ready.set()
        next_look = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() >= next_look:
                    try:
                        self.tick()
                    except BaocaoError as exc:  # the warehouse (service) away: again later
                        log.warning("brief service: cannot look at the briefs now: %s", exc)
                    except Exception:
                        log.exception("brief service: cannot look at the briefs now")
                    wait = self.settle if self.settling else self.interval
                    next_look = time.monotonic() + wait
                polled = consumer.poll(timeout_ms=min(500, int(self.interval * 1000)))
                for records in polled.values():
                    for record in records:
                        try:
                            alert = Alert.model_validate_json(record.value or b"")
                        except ValidationError:
                            continue  # the warehouse sink dead-letters what is not an alert
                        if self.observe(alert):
                            next_look = min(next_look, time.monotonic() + self.settle)
        finally:
            consumer.close()
