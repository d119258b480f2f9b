"""Dashboard panels over a simulated year of a national registry, in chDB.

The warehouse is filled by ``bench.warehouse_fill``; each panel of every dashboard then
runs the way the built-in viewer runs it (``dashboards.query.run_panel``: macros and
variables expanded by ``dashboards.macros``, the variables at their defaults) for the
viewer's default period (the last 14 days) and for the whole year. The first run of a
panel is reported apart (cold); the percentiles are over the runs after it.

A yardstick is measured in the same run: ClickHouse summing the default province's
year of one metric straight from ``report_values``, with no choice of the latest
revision. It is the floor under a year-long situation panel, and it tells how fast this
machine is when figures from different days are compared.

Then, as during a reporting day, the last day is corrected in many sink-sized batches
with merges stopped, and the yardstick and the situation dashboard's year are read
again: its panels read the daily rollup with FINAL, exact before parts merge, and the
cost of unmerged parts shows next to the same cost in the yardstick's table.
Last, each rollup (``daily_values``, ``daily_reports``) is emptied and refilled by the
backfill an older warehouse gets on its first start with this version, then the
backfill runs again, finding nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from baocao.status import warehouse_summary
from bench.common import Row, Scale, percentile, progress
from bench.warehouse_fill import Year, all_provinces, demo_provinces, fill
from contract.settings import Settings
from dashboards.catalog import DASHBOARDS
from dashboards.common import PROVINCE
from dashboards.macros import TimeRange
from dashboards.query import run_panel, variable_options
from sinks.rows import REPORT_VALUES_COLUMNS, REPORTS_COLUMNS
from warehouse import daily_reports, daily_values
from warehouse.client import Warehouse

START = date(2021, 1, 1)
#: Repetitions per panel and period, and the time one panel may take for them.
REPEATS: dict[Scale, tuple[int, float]] = {"small": (5, 2.0), "full": (10, 20.0)}
TARGET_MS = 200
#: A year-long situation panel may cost at most this many times the yardstick (issue 24).
TARGET_RATIO = 2.0
#: The yardstick: one metric of one province's year, read raw (every revision counted).
YARDSTICK_SQL = (
    "SELECT sum(value) FROM report_values WHERE dataset = 'district-daily'"
    " AND metric = 'cases_new' AND report_date BETWEEN {first:Date} AND {last:Date}"
    " AND unit_id IN (SELECT unit_id FROM units_current WHERE province_id = {province:String})"
)


#: Inserts a day of corrections arrives in (a national day: ~10,000 reports).
CORRECTION_BATCHES: dict[Scale, int] = {"small": 20, "full": 200}


#: Tables a day of sink batches adds parts to, in the sink's order (values before reports).
CORRECTED = ("report_values", "reports", "daily_values", "daily_reports")


def correct_last_day(wh: Warehouse, day: date, batches: int) -> None:
    """Write each unit's latest report of ``day`` again as its next revision, in batches.

    As the sink writes: each batch's value rows, then its `reports` rows (the rollups'
    views run on those). Merges of these tables are stopped, so readers see the parts
    as they come, before any merge. Every corrected value gets a leading 1, in both
    tables. (Columns are qualified: an alias such as `revision` would shadow the column.)
    """
    for table in CORRECTED:
        wh.command(f"SYSTEM STOP MERGES {table}")
    changed = {
        "report_id": "reinterpretAsUUID(MD5(concat(toString(r.report_id), '/next')))",
        "revision": "r.revision + 1",
        "submitted_at": "r.submitted_at + toIntervalHour(1)",
        "accepted_at": "r.accepted_at + toIntervalHour(1)",
        "value": "toUInt32(concat('1', toString(r.value)))",
        "values_json": "replaceRegexpAll(r.values_json, ':([0-9]+)', ':1\\\\1')",
    }
    latest = (
        "(r.dataset, r.unit_id, r.revision) IN (SELECT l.dataset, l.unit_id, max(l.revision)"
        " FROM reports AS l WHERE l.report_date = {d:Date} GROUP BY l.dataset, l.unit_id)"
    )
    for i in range(batches):
        for table, names in (
            ("report_values", REPORT_VALUES_COLUMNS),
            ("reports", REPORTS_COLUMNS),
        ):
            columns = ", ".join(changed.get(c, f"r.{c}") + f" AS {c}" for c in names)
            wh.command(
                f"INSERT INTO {table} SELECT {columns} FROM {table} AS r"
                f" WHERE r.report_date = {{d:Date}} AND cityHash64(r.unit_id) % {batches} = {i}"
                f" AND {latest}",
                {"d": day},
            )


#: Each rollup and the module whose statements fill it.
ROLLUPS = {"daily_values": daily_values, "daily_reports": daily_reports}


def backfill_seconds(wh: Warehouse, rollup: str) -> tuple[float, float]:
    """Seconds to refill an emptied rollup from `reports`, then to find nothing to refill."""
    wh.command(f"TRUNCATE TABLE {rollup}")
    backfill = ROLLUPS[rollup].statements(wh.database)[1]
    out = []
    for _ in range(2):
        t0 = time.perf_counter()
        wh.command(backfill)
        out.append(time.perf_counter() - t0)
    return out[0], out[1]


def year(scale: Scale) -> Year:
    if scale == "full":
        return Year(all_provinces(), START, 365)
    return Year(demo_provinces(), START, 30)


def timings(call: Callable[[], object], repeats: int, budget: float) -> list[float]:
    """Seconds per call: one cold call, then up to ``repeats`` within ``budget`` (at least 3)."""
    out: list[float] = []
    spent = 0.0
    while len(out) < 1 + repeats and (len(out) < 4 or spent < budget):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
        spent += out[-1]
    return out


def show(times: list[float]) -> str:
    cold, warm = times[0], times[1:]
    return (
        f"p50 {percentile(warm, 50) * 1000:,.0f} / p95 {percentile(warm, 95) * 1000:,.0f} ms"
        f" ({len(warm)} runs; cold {cold * 1000:,.0f} ms)"
    )


def run(scale: Scale, runs: int) -> list[Row]:
    span = year(scale)
    repeats, budget = REPEATS[scale]
    repeats *= runs
    last = span.start + timedelta(days=span.days - 1)
    periods = {
        "14 d": TimeRange(last - timedelta(days=13), last),
        f"{span.days} d": TimeRange(span.start, last),
    }
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp:
        settings = Settings(warehouse="chdb", chdb_path=Path(tmp) / "warehouse")
        with Warehouse.connect(settings) as wh:
            wh.ensure_schema()
            progress(f"filling {len(span.provinces)} provinces x {span.days} days")
            filled = fill(wh, span)
            rows.append(
                (
                    f"dashboards: fill chDB with {filled.units:,} units x {span.days} days "
                    "(INSERT ... SELECT FROM numbers)",
                    f"{filled.value_rows:,} value rows + {filled.reports:,} reports in "
                    f"{filled.fill_seconds:.0f} s; OPTIMIZE FINAL {filled.merge_seconds:.0f} s",
                )
            )
            params = {"first": span.start, "last": last, "province": PROVINCE.default}
            times = timings(partial(wh.query_rows, YARDSTICK_SQL, params), repeats, budget)
            floor = percentile(times[1:], 95)
            rows.append(
                (
                    f"yardstick: sum one metric of province {PROVINCE.default}'s"
                    f" {span.days} days straight from report_values",
                    show(times),
                )
            )
            # Not a panel, but `baocao status` and the web UI's status ask it (row counts
            # and the newest report) over the same year.
            times = timings(partial(warehouse_summary, wh), repeats, budget)
            rows.append(("status: row counts and the newest report (/api/status)", show(times)))
            worst: list[float] = []
            ratios: dict[str, float] = {}  # year-long situation panel -> p95 / yardstick's
            for dashboard in DASHBOARDS:
                values = {v.name: v.default for v in dashboard.variables}
                progress(f"  {dashboard.uid}")
                choices = partial(variable_options, wh, dashboard, values)
                times = timings(choices, repeats, budget)
                rows.append((f"{dashboard.uid}: variable choices", show(times)))
                for panel in dashboard.panels:
                    cells = []
                    for label, period in periods.items():
                        query = partial(run_panel, wh, panel, values, period)
                        times = timings(query, repeats, budget)
                        worst.append(percentile(times[1:], 95))
                        cells.append(f"{label}: {show(times)}")
                        if dashboard.uid == "baocao-situation" and label != "14 d":
                            ratios[panel.key] = worst[-1] / floor
                    rows.append((f"{dashboard.uid} / {panel.key}", "; ".join(cells)))
            slowest = sorted(ratios, key=ratios.__getitem__, reverse=True)
            rows.append(
                (
                    f"situation panels over {span.days} d, p95 / the yardstick's "
                    f"(target: <= {TARGET_RATIO:g}x)",
                    f"{sum(r <= TARGET_RATIO for r in ratios.values())} of {len(ratios)} "
                    "within; slowest: "
                    + ", ".join(f"{key} {ratios[key]:.1f}x" for key in slowest[:4]),
                )
            )
            situation = next(d for d in DASHBOARDS if d.uid == "baocao-situation")
            values = {v.name: v.default for v in situation.variables}
            progress("  a day of corrections, unmerged")
            batches = CORRECTION_BATCHES[scale]
            t0 = time.perf_counter()
            correct_last_day(wh, last, batches)
            rows.append(
                (
                    f"the last day corrected in {batches} sink-sized batches (values, then"
                    " reports: the rollups' views run), merges stopped",
                    f"{time.perf_counter() - t0:.1f} s",
                )
            )
            times = timings(partial(wh.query_rows, YARDSTICK_SQL, params), repeats, budget)
            rows.append((f"yardstick, {span.days} d, day unmerged", show(times)))
            year_long = periods[f"{span.days} d"]
            for panel in situation.panels:
                query = partial(run_panel, wh, panel, values, year_long)
                label = f"{situation.uid} / {panel.key}, {span.days} d, day unmerged"
                rows.append((label, show(timings(query, repeats, budget))))
            for table in CORRECTED:
                wh.command(f"SYSTEM START MERGES {table}")
            progress("  backfill")
            for rollup in ROLLUPS:
                filled_in, again = backfill_seconds(wh, rollup)
                rollup_rows = wh.query_rows(f"SELECT count() FROM {rollup}")[0][0]
                rows.append(
                    (
                        f"rollup {rollup}: backfill on the first start of an older warehouse"
                        " (then again)",
                        f"{rollup_rows:,} unit-days in {filled_in:.1f} s; again: {again:.2f} s",
                    )
                )
    within = sum(1 for t in worst if t * 1000 <= TARGET_MS)
    rows.append(
        (
            f"dashboard panels with p95 <= {TARGET_MS} ms (target: all)",
            f"{within} of {len(worst)} (panel x period)",
        )
    )
    return rows
