"""What the signal engine keeps per unit (or area) and dataset: recent days, as JSON.

A Faust table holds one entry per subject and dataset. It keeps the latest revision's
values for a window of recent days, what older days left behind (cumulative totals and
the last positive day of each metric), and which alerts already went out. Invariants:
- a day's values are replaced only by a revision at least as new (``Rev`` order), so a
  re-read after a crash or an older revision arriving late changes nothing;
- a day older than the window is folded into ``cumulative`` and ``last_positive`` once,
  when it leaves the window; a report for such a day is too old to re-evaluate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

#: Orders the versions of one unit-day as the warehouse does: (revision, submitted_at,
#: report_id). An area's day has no revision: ``[]`` always replaces what was there.
Rev = list[Any]


@dataclass
class Series:
    """Recent daily values of one subject and dataset, plus what older days left."""

    first_day: date | None = None
    days: dict[date, tuple[Rev, dict[str, int]]] = field(default_factory=dict)
    last_positive: dict[str, date] = field(default_factory=dict)
    cumulative: dict[str, int] = field(default_factory=dict)
    #: signal or level alert id -> what was sent for it (see streams.signals.Marks)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ISO day -> provisional level assessed for it (level-change alerts compare these)
    levels: dict[str, int | None] = field(default_factory=dict)
    #: "<ISO day>|<period>" -> fingerprint of the level result last sent for it
    assessed: dict[str, str] = field(default_factory=dict)

    def put(self, day: date, rev: Rev, values: Mapping[str, int], keep_days: int) -> bool:
        """Record a day's values; False when they are stale or the day left the window."""
        newest = self.newest
        if newest is not None and day < newest - timedelta(days=keep_days):
            return False
        old = self.days.get(day)
        if old is not None and rev and old[0] and rev < old[0]:
            return False
        self.days[day] = (rev, dict(values))
        if self.first_day is None or day < self.first_day:
            self.first_day = day
        self.trim(keep_days)
        return True

    @property
    def newest(self) -> date | None:
        return max(self.days) if self.days else None

    def trim(self, keep_days: int) -> None:
        """Fold days older than the window into the totals; forget marks older than it."""
        newest = self.newest
        assert newest is not None
        horizon = newest - timedelta(days=keep_days)
        for day in sorted(d for d in self.days if d < horizon):
            _, values = self.days.pop(day)
            for key, value in values.items():
                self.cumulative[key] = self.cumulative.get(key, 0) + value
                if value > 0 and day > self.last_positive.get(key, date.min):
                    self.last_positive[key] = day
        iso = horizon.isoformat()
        self.sent = {k: v for k, v in self.sent.items() if v.get("d", iso) >= iso}
        self.levels = {k: v for k, v in self.levels.items() if k >= iso}
        self.assessed = {k: v for k, v in self.assessed.items() if k >= iso}

    def level_before(self, iso: str) -> int | None:
        """The provisional level of the latest day before ``iso`` that has one assessed."""
        before = [k for k in self.levels if k < iso]
        return self.levels[max(before)] if before else None

    def values(self) -> dict[date, dict[str, int]]:
        return {day: values for day, (_, values) in self.days.items()}

    def total(self, key: str, upto: date) -> int:
        """``key``'s cumulative total up to and including ``upto``."""
        kept = sum(v.get(key, 0) for d, (_, v) in self.days.items() if d <= upto)
        return self.cumulative.get(key, 0) + kept

    def window(self, key: str, upto: date, days: int) -> tuple[int, int]:
        """(sum of ``key``, days reported) over the ``days`` days ending ``upto``."""
        start = upto - timedelta(days=days - 1)
        total = reported = 0
        for d, (_, v) in self.days.items():
            if start <= d <= upto:
                reported += 1
                total += v.get(key, 0)
        return total, reported

    def to_json(self) -> dict[str, Any]:
        return {
            "f": self.first_day.isoformat() if self.first_day else None,
            "d": {d.isoformat(): [rev, v] for d, (rev, v) in self.days.items()},
            "lp": {k: d.isoformat() for k, d in self.last_positive.items()},
            "c": self.cumulative,
            "s": self.sent,
            "l": self.levels,
            "a": self.assessed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Series:
        if not data:
            return cls()
        return cls(
            first_day=date.fromisoformat(data["f"]) if data.get("f") else None,
            days={date.fromisoformat(d): (list(rev), dict(v)) for d, (rev, v) in data["d"].items()},
            last_positive={k: date.fromisoformat(d) for k, d in data.get("lp", {}).items()},
            cumulative=dict(data.get("c", {})),
            sent={k: dict(v) for k, v in data.get("s", {}).items()},
            levels=dict(data.get("l", {})),
            assessed=dict(data.get("a", {})),
        )
