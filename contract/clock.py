"""An injectable clock, so tests and simulations can run any day at any hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    """Tell the current instant, always zone-aware."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a zone-aware start instant")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock needs zone-aware instants")
        self._now = instant

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class FileClock:
    """Read the instant from a file another process writes; the fallback clock when absent.

    A test cannot reach into a worker subprocess to move a ManualClock, so it writes an
    ISO-8601 instant to this file instead, and the worker follows it.
    """

    def __init__(self, path: Path, fallback: Clock | None = None) -> None:
        self.path = path
        self.fallback = fallback or SystemClock()
        self._stamp: tuple[int, int] | None = None
        self._instant: datetime | None = None

    def now(self) -> datetime:
        try:
            st = self.path.stat()
            if self._stamp != (st.st_mtime_ns, st.st_size):  # re-read only when it changed
                text = self.path.read_text(encoding="utf-8").strip()
                self._instant = datetime.fromisoformat(text) if text else None
                self._stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            self._instant = None
        if self._instant is None or self._instant.tzinfo is None:
            return self.fallback.now()
        return self._instant

    def set(self, instant: datetime) -> None:
        """Move the clock for every process reading the same file."""
        if instant.tzinfo is None:
            raise ValueError("FileClock needs zone-aware instants")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(instant.isoformat(), encoding="utf-8")
        tmp.replace(self.path)  # atomic: a reader never sees half an instant


def configured(clock_file: Path | None) -> Clock:
    """The clock a process of the stack runs on: the one in ``clock_file`` when it is set
    (``BAOCAO_CLOCK_FILE``: a demo, replay or test moves it), else the system clock."""
    return FileClock(clock_file) if clock_file is not None else SystemClock()
