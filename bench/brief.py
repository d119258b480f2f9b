"""The daily brief over a national year in chDB: one province's brief and the national one.

The warehouse is filled by ``bench.warehouse_fill`` (the 2021 hierarchy's communes and
checkpoints reporting for a year; at small scale the demo's five provinces for 30 days),
as the dashboards benchmark does. Each run builds the brief of the year's last day the
way the brief service's maker does: ``gather`` (every section's queries, the figures as
of the cut-off, the 14-day series) and ``render`` in the three formats it archives, PDF,
DOCX and HTML. The first run is reported apart (cold caches, fonts loaded); the figure is
the median of the runs after it. The fill has no signals or levels, so those two
sections read empty tables; every other section reads a year of reports.

Also timed: the brief service's look every few seconds, the marks of the eight days it
watches (``BriefMaker.marks``), which is all it costs while nothing changes.
Targets (issue 26): at most 3 s per province, 30 s for the national roll-up.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

from bench.common import Row, Runs, Scale, progress
from bench.record import Figure, load_now, write_results
from bench.warehouse_fill import Year, all_provinces, demo_provinces, fill, registry
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.settings import Settings
from sinks.brief.archive import Archive
from sinks.brief.gather import gather
from sinks.brief.maker import BriefMaker
from sinks.brief.render import FORMATS, render
from warehouse.client import Warehouse

START = date(2021, 1, 1)
PROVINCE = "19"
TARGETS = {PROVINCE: 3.0, None: 30.0}  # seconds: gather + the three formats
WATCHED_DAYS = 8  # the brief service's window: the day and the 7 before it
TZ = Settings().tz


def year(scale: Scale) -> Year:
    if scale == "full":
        return Year(all_provinces(), START, 365)
    return Year(demo_provinces(), START, 30)


def build_once(wh: Warehouse, span: Year, province: str | None, day: date) -> dict[str, float]:
    """Seconds to gather one brief and render each format."""
    reg, catalog = registry(span.provinces), Catalog.load()
    now = datetime.combine(day + timedelta(days=1), day_time(0), TZ)  # every report is in
    t0 = time.perf_counter()
    brief = gather(wh, reg, catalog, province, day, TZ, now)
    out = {"gather": time.perf_counter() - t0}
    for fmt in FORMATS:
        t1 = time.perf_counter()
        render(brief, fmt, "vi")
        out[fmt] = time.perf_counter() - t1
    out["total"] = time.perf_counter() - t0
    return out


def measure(scale: Scale, runs: int) -> tuple[list[Figure], dict[str, Any]]:
    span = year(scale)
    day = span.start + timedelta(days=span.days - 1)
    warm = max(3, runs)
    figures: list[Figure] = []
    raw: dict[str, Any] = {"day": day.isoformat(), "provinces": len(span.provinces)}
    with tempfile.TemporaryDirectory(prefix="bench-brief-") as tmp:
        settings = Settings(warehouse="chdb", chdb_path=Path(tmp) / "warehouse")
        with Warehouse.connect(settings) as wh:
            wh.ensure_schema()
            progress(f"filling {len(span.provinces)} provinces x {span.days} days")
            filled = fill(wh, span)
            raw["fill"] = {"units": filled.units, "value_rows": filled.value_rows,
                           "reports": filled.reports, "seconds": filled.fill_seconds}  # fmt: skip
            figures.append(
                Figure(
                    f"brief: fill chDB with {filled.units:,} units x {span.days} days",
                    f"{filled.value_rows:,} value rows + {filled.reports:,} reports in "
                    f"{filled.fill_seconds:.0f} s; OPTIMIZE FINAL {filled.merge_seconds:.0f} s",
                    "",
                    None,
                )
            )
            for province, target in TARGETS.items():
                name = f"province {province}" if province else "national"
                progress(f"  {name}: 1 cold + {warm} runs")
                times = [build_once(wh, span, province, day) for _ in range(1 + warm)]
                raw[name] = {"runs": times, "load": load_now()}
                total = Runs(tuple(t["total"] for t in times[1:]))
                parts = ", ".join(
                    f"{k} {Runs(tuple(t[k] for t in times[1:])).median:.2f}"
                    for k in ("gather", *FORMATS)
                )
                figures.append(
                    Figure(
                        f"brief of {name} on {day.isoformat()}: gather + PDF, DOCX, HTML",
                        f"{total.show('.2f', ' s')}; median parts (s): {parts};"
                        f" cold {times[0]['total']:.2f} s",
                        f"<= {target:.0f} s",
                        total.median <= target,
                    )
                )
            archive = Archive(Path(tmp) / "briefs", wh)
            clock = ManualClock(datetime.now(TZ))
            maker = BriefMaker(wh, registry(span.provinces), Catalog.load(), archive, TZ, clock)
            days = [day - timedelta(days=n) for n in range(WATCHED_DAYS)]
            looks = []
            for _ in range(1 + 5 * warm):
                t0 = time.perf_counter()
                maker.marks(days)
                looks.append(time.perf_counter() - t0)
            raw["marks"] = looks
            figures.append(
                Figure(
                    f"brief service's look: marks of {WATCHED_DAYS} watched days, every area",
                    f"{Runs(tuple(looks[1:])).median * 1000:,.0f} ms median of {len(looks) - 1}"
                    f" (cold {looks[0] * 1000:,.0f} ms)",
                    "",
                    None,
                )
            )
    return figures, raw


def run(scale: Scale, runs: int) -> list[Row]:
    started = datetime.now().astimezone()
    figures, raw = measure(scale, runs)
    if scale == "full":
        path = write_results("brief", scale, runs, started, raw, figures)
        progress(f"raw runs written to {path}")
    return [f.row() for f in figures]
