"""Play simulated days faster than real time, so a demo sees deadlines pass.

The simulator moves a shared clock (``contract.clock.FileClock``; the stream worker
follows the same file through ``BAOCAO_CLOCK_FILE``) and publishes each report once the
simulated time reaches its ``submitted_at``. Reminders, missing alerts at the deadline
and late reports then happen in front of the audience, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contract.events import ReportSubmitted

#: The simulated day starts here: hours before the earliest report or reminder.
DAY_STARTS = time(8, 0)


@dataclass(frozen=True)
class SpeedMap:
    """Simulated time as a function of wall time: ``speed`` simulated seconds per second."""

    sim_start: datetime
    wall_start: float  # a monotonic reading, in seconds
    speed: float

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.sim_start.tzinfo is None:
            raise ValueError("simulated time must be zone-aware")

    def sim_at(self, wall: float) -> datetime:
        return self.sim_start + timedelta(seconds=(wall - self.wall_start) * self.speed)

    def wall_at(self, sim: datetime) -> float:
        return self.wall_start + (sim - self.sim_start).total_seconds() / self.speed


def window(
    reports: Sequence[ReportSubmitted],
    days: Sequence[date],
    deadlines: Sequence[datetime],
    tz: ZoneInfo,
) -> tuple[datetime, datetime]:
    """The simulated span to play: from the first morning to after the last event."""
    start = datetime.combine(days[0], DAY_STARTS, tzinfo=tz)
    instants = [r.submitted_at for r in reports] + list(deadlines)
    # One minute past the last deadline, so its missing alerts fire before the end.
    end = max(instants, default=start) + timedelta(minutes=1)
    return min([start, *(r.submitted_at for r in reports)]), end


@dataclass(frozen=True)
class Playback:
    """What to play and with what: the parts are injected so tests need no sleeping."""

    reports: Sequence[ReportSubmitted]  # ordered by submitted_at
    speed_map: SpeedMap
    end: datetime
    set_clock: Callable[[datetime], None]
    publish: Callable[[list[ReportSubmitted]], object]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    tick_seconds: float = 0.25  # how often the shared clock moves, in wall seconds
    on_tick: Callable[[datetime, int], None] | None = None  # simulated now, reports sent


def play(p: Playback) -> int:
    """Publish every report when simulated time reaches it; return how many were sent."""
    sent = 0
    while True:
        now = min(p.end, p.speed_map.sim_at(p.monotonic()))
        due = sent
        while due < len(p.reports) and p.reports[due].submitted_at <= now:
            due += 1
        if due > sent:
            p.publish(list(p.reports[sent:due]))
            sent = due
        # The clock moves after the reports it covers are on the broker, so the worker
        # never sees a deadline pass before the reports that beat it.
        p.set_clock(now)
        if p.on_tick is not None:
            p.on_tick(now, sent)
        if now >= p.end:
            return sent
        upcoming = p.reports[sent].submitted_at if sent < len(p.reports) else p.end
        wait = p.speed_map.wall_at(min(upcoming, p.end)) - p.monotonic()
        # At least a millisecond: float rounding must not turn this into a busy loop.
        p.sleep(max(0.001, min(p.tick_seconds, wait)))
