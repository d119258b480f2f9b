"""HTTP load for the API benchmark: closed-loop clients, and a rush paced by the clock.

Clients are asyncio tasks sharing one aiohttp session (one connection each), so 200 of
them cost the benchmark process little next to the stack it measures. Only 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bench.common import percentile
from contract.events import ReportSubmitted

#: The report as a submitter sends it: baocao stamps submitted_at and submitted_by.
Body = dict[str, Any]


def body_of(report: ReportSubmitted) -> Body:
    return {
        "report_id": str(report.report_id),
        "dataset": report.dataset,
        "unit_id": report.unit_id,
        "report_date": report.report_date.isoformat(),
        "values": report.values,
    }


@dataclass
class Load:
    """What one load run saw: answers by status, latencies, wall time."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)  # report_ids answered 200/201/202
    behind: list[float] = field(default_factory=list)  # paced: answer time - release time

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "seconds": round(self.seconds, 3),
            "reports_per_s": round(self.rate, 1),
            "p50_ms": round(self.ms(50), 1),
            "p95_ms": round(self.ms(95), 1),
            "p99_ms": round(self.ms(99), 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class Poster:
    """Post bodies to ``/api/v1/reports`` with the token of each unit's province."""

    def __init__(self, port: int, token_of: Callable[[str], str], load: Load) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/reports"
        self.token_of = token_of
        self.load = load

    async def post(self, session: aiohttp.ClientSession, body: Body) -> None:
        headers = {
            "Authorization": f"Bearer {self.token_of(body['unit_id'])}",
            "Content-Type": "application/json",
        }
        started = time.perf_counter()
        async with session.post(self.url, data=json.dumps(body), headers=headers) as resp:
            await resp.read()
            status = resp.status
        self.load.latencies.append(time.perf_counter() - started)
        self.load.statuses[status] += 1
        if status in (200, 201, 202):
            self.load.acknowledged.append(body["report_id"])


def _session(clients: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def closed_loop(
    port: int, token_of: Callable[[str], str], bodies: Sequence[Body], clients: int
) -> Load:
    """``clients`` submitters, each sending its next report as soon as it has an answer."""
    load = Load()
    poster = Poster(port, token_of, load)
    todo = iter(bodies)
    async with _session(clients) as session:

        async def client() -> None:
            for body in todo:  # one iterator shared by every task of this one thread
                await poster.post(session, body)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        load.seconds = time.perf_counter() - started
    return load


async def paced(
    port: int,
    token_of: Callable[[str], str],
    reports: Sequence[ReportSubmitted],
    clients: int,
    window_start: datetime,
    wall_per_sim: float,
    set_clock: Callable[[datetime], None],
) -> Load:
    """Release each report when the simulated clock reaches its ``submitted_at``.

    The clock follows the releases (the service stamps submissions from it), so every
    report is stamped before the last one's time, and the caller moves it to the
    deadline only once every answer is in.
    """
    load = Load()
    poster = Poster(port, token_of, load)
    queue: asyncio.Queue[tuple[Body, float] | None] = asyncio.Queue()
    async with _session(clients) as session:

        async def client() -> None:
            while (item := await queue.get()) is not None:
                body, released = item
                await poster.post(session, body)
                load.behind.append(time.perf_counter() - released)

        workers = [asyncio.create_task(client()) for _ in range(clients)]
        started = time.perf_counter()
        i = 0
        while i < len(reports):
            now = window_start + timedelta(seconds=(time.perf_counter() - started) / wall_per_sim)
            j = i
            while j < len(reports) and reports[j].submitted_at <= now:
                j += 1
            if j > i:
                set_clock(reports[j - 1].submitted_at)
                released = time.perf_counter()
                for report in reports[i:j]:
                    queue.put_nowait((body_of(report), released))
                i = j
            await asyncio.sleep(0.05)
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
        load.seconds = time.perf_counter() - started
    return load
