"""Requests per token: a token bucket, so a burst is fine and a runaway script is not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Up to ``per_minute`` requests at once, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Spend one request for ``key``; None if allowed, else seconds until it would be."""
        if self.capacity <= 0:
            return None  # limiting is off
        with self._lock:
            at = self.now()
            tokens, then = self._buckets.get(key, (self.capacity, at))
            tokens = min(self.capacity, tokens + (at - then) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, at)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, at)
            return None
