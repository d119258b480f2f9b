"""Limits on requests: how many per token, and how large a body may be."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, Callable

from starlette.requests import Request

from producers.http import errors


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


async def body_chunks(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body's chunks; 413 past ``limit``, by the declared length before reading and
    by counting while reading (the length may be missing, or lie)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise errors.too_large(int(declared), limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.too_large(size, limit)
        yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (``body_chunks``)."""
    return b"".join([chunk async for chunk in body_chunks(request, limit)])
