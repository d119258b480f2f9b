"""What every benchmark shares: simulated reports, medians, rates, the results table."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from producers.simulator import simulate

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Scale = Literal["small", "full"]
#: One line of the results table: what was measured, and the figure.
Row = tuple[str, str]


def reports(n: int) -> list[ReportSubmitted]:
    """n simulated submissions across the demo registry, the days in order.

    Days are drawn back from 27/07/2021 until there are n, then sent oldest day first,
    as units report. Newest first, every report would be a late one for an earlier day,
    and the signal engine re-evaluates the days after a late day (up to 30 of them):
    the latency benchmark then measured that worst case instead of a day's reporting.
    """
    registry, catalog = Registry.load(), Catalog.load()
    out: list[ReportSubmitted] = []
    day = date(2021, 7, 27)
    while len(out) < n:
        # No re-sends: each report must produce exactly one decision to be counted.
        out.extend(
            simulate(registry, catalog, [day], TZ, seed=len(out), duplicate_share=0.0).reports
        )
        day -= timedelta(days=1)
    return sorted(out[:n], key=lambda r: r.report_date)  # stable: a day keeps its order


def report_days(registry: Registry, last: date) -> Iterator[list[ReportSubmitted]]:
    """One simulated day of submissions after another, newest day first, without end.

    For streams too long to hold in memory. Units are active from a date on, so a long
    stream needs a big registry rather than ever more days.
    """
    catalog, day = Catalog.load(), last
    while True:
        seed = day.toordinal()
        yield simulate(registry, catalog, [day], TZ, seed=seed, duplicate_share=0.0).reports
        day -= timedelta(days=1)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, all cores, from /proc/stat."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:9]]  # user … steal
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


def median_rate(runs: int, n: int, once: Callable[[], float]) -> float:
    return statistics.median(n / once() for _ in range(runs))


def drain_rate(samples: Sequence[tuple[float, int]], n: int) -> float:
    """Items per second while the middle of a backlog of ``n`` items drains.

    ``samples`` are (time, items done so far). The window runs from the first sample
    at or above 25% of ``n`` to the first at or above 95%: joining a group, a
    rebalance as a second member joins and the last partly filled batches stay out,
    and output that comes in bursts (Faust publishes on commit, the sink per flush)
    is measured from one burst to another. Every benchmark draining pre-loaded input
    measures this way.
    """
    lo, hi = 0.25 * n, 0.95 * n
    start = next(((t, c) for t, c in samples if c >= lo), None)
    end = next(((t, c) for t, c in samples if c >= hi), None)
    if start is None or end is None:
        raise RuntimeError(f"output never reached 95% of {n}: {samples[-3:]}")
    if end[0] <= start[0]:  # all in one burst (small runs): count from before it
        start = [(t, c) for t, c in samples if c < lo][-1]
    (t0, c0), (t1, c1) = start, end
    return (c1 - c0) / (t1 - t0)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass(frozen=True)
class Runs:
    """One figure measured in several runs: the median is the result, the rest is shown."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, fmt: str = ",.0f", unit: str = "") -> str:
        each = ", ".join(format(v, fmt) for v in self.values)
        tail = f" (runs: {each})" if len(self.values) > 1 else ""
        return f"{format(self.median, fmt)}{unit}{tail}"


def collect(runs: int, once: Callable[[int], dict[str, float]]) -> dict[str, Runs]:
    """Call ``once(run)`` ``runs`` times; gather each named figure across the runs."""
    results = [once(run) for run in range(runs)]
    return {name: Runs(tuple(r[name] for r in results)) for name in results[0]}


def wait_until(what: str, check: Callable[[], bool], timeout: float, step: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


def progress(message: str) -> None:
    """Say what is running on stderr, so stdout keeps only the results table."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def memory_total_gib() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def header(command: str, started: datetime) -> str:
    """Where, when and how the figures below were measured."""
    return (
        f"{platform.node()}: {os.cpu_count()} cores, {memory_total_gib():.0f} GiB RAM, "
        f"Python {platform.python_version()}; started {started:%Y-%m-%d %H:%M %Z}\n"
        f"command: `{command}`"
    )


def side_by_side(results: Mapping[str, Sequence[Row]]) -> str:
    """One column per broker; rows matched by position (each run gives the same rows)."""
    kinds = list(results)
    lines = ["| stage | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for i, (name, _) in enumerate(results[kinds[0]]):
        cells = [rows[i][1] if i < len(rows) else "" for rows in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(rows: Sequence[Row]) -> str:
    lines = ["| stage | result |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)
