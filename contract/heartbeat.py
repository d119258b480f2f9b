"""A heartbeat file: a running loop touches it, a health check reads how old it is.

A file works across processes with no port to open, and a container healthcheck can
test it with ``find FILE -mmin -1``.
"""

from __future__ import annotations

import time
from pathlib import Path

#: A loop beats at most this often; a check allows several missed beats.
INTERVAL_SECONDS = 5.0
STALE_SECONDS = 30.0


class Heartbeat:
    """Touch ``path`` at most every ``interval`` seconds; nothing at all without a path."""

    def __init__(self, path: Path | None, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self._last = float("-inf")

    def beat(self) -> None:
        if self.path is None or time.monotonic() - self._last < self.interval:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()  # sets the modification time to now
        self._last = time.monotonic()


def age(path: Path) -> float | None:
    """Seconds since the last beat, or None when the file does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None
