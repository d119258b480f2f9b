"""The front door at 14:59: the national deadline rush through the HTTP API.

Every other benchmark publishes straight to Kafka; submitters use ``POST
/api/v1/reports``. Two measurements, each on a fresh embedded stack (broker, worker,
warehouse service with the API), the national registry at full scale:

* **sweep**: closed-loop clients, 1, 10, 50 and 200 at a time, each request a new
  unit-day, the clock at 08:00: reports/s and p50/p95/p99, and the CPU each process of
  the stack spent per report;
* **rush**: the deadline burst of ``bench/burst.py`` (every expected unit but 2 %
  submitting over 14:30-15:00, published in 30 s, ≈ 330 reports/s), released on the
  simulated clock to 200 concurrent clients; then the clock reaches 15:00 and the
  15:00 alerts are timed and checked as the burst benchmark does, next to the same
  reports published straight to Kafka in the same run.

Raw runs go to ``bench/results/api-<scale>-<start>.json``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import burst
from bench.api_load import Load, body_of, closed_loop, paced
from bench.common import Row, Scale, cpu_seconds, percentile, progress
from bench.record import Figure, write_results
from bench.stack import BenchStack
from bench.warehouse_fill import all_provinces, demo_provinces, registry
from contract.clock import FileClock
from contract.events import ReportSubmitted
from contract.registry import Registry
from producers.http.auth import TokenStore

CONCURRENCY = (1, 10, 50, 200)
#: Requests per concurrency level of the sweep (each a new unit-day of the registry).
SWEEP: dict[Scale, dict[int, int]] = {
    "small": {1: 50, 10: 150, 50: 250, 200: 250},
    "full": {1: 300, 10: 1500, 50: 3000, 200: 3000},
}
RUSH_CLIENTS = 200
TARGET_RATE, TARGET_P95_MS, TARGET_LAST_MISSING_S = 330.0, 300.0, 5.0


def token_lookup(reg: Registry, data_dir: Path) -> Callable[[str], str]:
    """A province token per province (in the service's token file), found by unit."""
    store = TokenStore(data_dir / "tokens.sqlite")
    try:
        now = burst.DEADLINE - timedelta(days=1)
        provinces = {u.province_id for u in reg if u.province_id}
        tokens = {p: store.create(p, f"tinh-{p}", now)[1] for p in sorted(provinces)}
    finally:
        store.close()
    province = {u.unit_id: u.province_id or "" for u in reg}
    return lambda unit_id: tokens[province[unit_id]]


def sweep(reg: Registry, scale: Scale, seed: int, root: Path) -> dict[str, Any]:
    """Closed-loop clients at each concurrency, on one stack; each request a new unit-day."""
    data = burst.burst(reg, seed)
    root.mkdir(parents=True, exist_ok=True)
    reg.dump(root / "registry.json")
    clock = FileClock(root / "clock")
    clock.set(burst.DEADLINE - timedelta(hours=7))  # 08:00: every report on time
    env = {"BAOCAO_REGISTRY_PATH": str(root / "registry.json"), "BAOCAO_CLOCK_FILE": clock.path}
    levels: dict[str, Any] = {}
    with BenchStack(root / "stack", {k: str(v) for k, v in env.items()}) as stack:
        token_of = token_lookup(reg, stack.root)
        stack.start_warehouse()
        stack.start_worker()
        while stack.status() is None:
            stack.check_alive()
            time.sleep(0.2)
        pids = {name: p.pid for name, p in stack.procs.items()}
        pids["broker"] = stack.broker.pid or 0
        sent = 0
        for clients in CONCURRENCY:
            n = SWEEP[scale][clients]
            bodies = [body_of(r) for r in data[sent : sent + n]]
            sent += n
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
            load = asyncio.run(closed_loop(stack.http_port, token_of, bodies, clients))
            spent = {name: cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
            levels[str(clients)] = {
                **load.summary(),
                "cpu_ms_per_report": {k: round(v * 1000 / n, 3) for k, v in spent.items()},
            }
            progress(f"  {clients:>3} clients: {levels[str(clients)]}")
        decided = _wait_decided(stack, sent)
    return {"levels": levels, "sent": sent, "decided": decided}


def through_api(reg: Registry, seed: int) -> burst.Send:
    """burst.once's sender that posts every report through the API, paced by the clock."""

    def send(
        stack: BenchStack, clock: FileClock, data: list[ReportSubmitted], wall: float
    ) -> dict[str, float]:
        token_of = token_lookup(reg, stack.root)
        step = wall / burst.WINDOW.total_seconds()
        start = burst.DEADLINE - burst.WINDOW
        load = asyncio.run(
            paced(stack.http_port, token_of, data, RUSH_CLIENTS, start, step, clock.set)
        )
        statuses = load.statuses
        return {
            "api_seconds": load.seconds,
            "api_rate": load.rate,
            "api_p50_ms": load.ms(50),
            "api_p95_ms": load.ms(95),
            "api_p99_ms": load.ms(99),
            "api_behind_p95_ms": _p95_ms(load),
            "api_201": statuses[201],
            "api_202": statuses[202],
            "api_other": sum(n for s, n in statuses.items() if s not in (201, 202)),
        }

    return send


def _p95_ms(load: Load) -> float:
    return percentile(load.behind, 95) * 1000 if load.behind else 0.0


def _wait_decided(stack: BenchStack, n: int, timeout: float = 180.0) -> int:
    deadline = time.monotonic() + timeout
    decided = 0
    while time.monotonic() < deadline:
        decided = stack.decided() or 0
        if decided >= n:
            break
        time.sleep(0.5)
    return decided


def run(scale: Scale, runs: int) -> list[Row]:
    started = datetime.now().astimezone()
    os.environ["BAOCAO_RATE_LIMIT_PER_MINUTE"] = "0"  # one token per province: never throttled
    reg = registry(all_provinces() if scale == "full" else demo_provinces())
    raw: list[dict[str, Any]] = []
    for i in range(runs):
        one: dict[str, Any] = {
            "load_before": list(os.getloadavg()),
            "signals_enabled": os.environ.get("BAOCAO_SIGNALS_ENABLED", "true"),
        }
        with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
            for part in ("rush", "kafka"):
                (Path(tmp) / part).mkdir()
            progress(f"api sweep, run {i + 1}/{runs}")
            one["sweep"] = sweep(reg, scale, i, Path(tmp) / "sweep")
            progress(f"api rush, run {i + 1}/{runs}")
            one["rush_api"] = burst.once(reg, scale, i, Path(tmp) / "rush", through_api(reg, i))
            progress(f"  {one['rush_api']}")
            progress(f"kafka rush (same reports), run {i + 1}/{runs}")
            one["rush_kafka"] = burst.once(reg, scale, i, Path(tmp) / "kafka")
            progress(f"  {one['rush_kafka']}")
        one["load_after"] = list(os.getloadavg())
        raw.append(one)
    figures = figures_of(raw, scale)
    path = write_results("api", scale, runs, started, {"runs": raw}, figures)
    progress(f"raw runs: {path}")
    return [f.row() for f in figures]


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _each(values: list[float], fmt: str = ",.0f") -> str:
    return f" (runs {', '.join(format(v, fmt) for v in values)})" if len(values) > 1 else ""


def sweep_figure(raw: list[dict[str, Any]], clients: int, scale: Scale) -> Figure:
    """Reports/s and latency percentiles at one concurrency (target at 50 clients)."""
    levels = [r["sweep"]["levels"][str(clients)] for r in raw]
    rates = [lv["reports_per_s"] for lv in levels]
    p50, p95, p99 = (_median([lv[f"{q}_ms"] for lv in levels]) for q in ("p50", "p95", "p99"))
    cpu = levels[-1]["cpu_ms_per_report"]
    result = (
        f"{_median(rates):,.0f} reports/s{_each(rates)}; p50 {p50:.0f} / p95 {p95:.0f} / "
        f"p99 {p99:.0f} ms; CPU spent during the level, per report (last run): "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in sorted(cpu.items()))
    )
    figure = f"API sweep, {clients} client(s), each request a new unit-day ({scale})"
    if clients != 50:
        return Figure(figure, result, "", None)
    met = _median(rates) >= TARGET_RATE and p95 <= TARGET_P95_MS
    return Figure(figure, result, f"≥ {TARGET_RATE:.0f}/s, p95 ≤ {TARGET_P95_MS:.0f} ms", met)


def rush_figures(raw: list[dict[str, Any]], scale: Scale) -> list[Figure]:
    """The rush through the API, and its 15:00 alerts next to the same reports via Kafka."""
    api = [r["rush_api"] for r in raw]
    kafka = [r["rush_kafka"] for r in raw]
    answers = ", ".join(
        f"{r['api_201']:.0f}×201 {r['api_202']:.0f}×202 {r['api_other']:.0f} other" for r in api
    )
    last_api = [r["last_missing"] for r in api]
    last_kafka = [r["last_missing"] for r in kafka]
    decided = _median([r["decided"] for r in api]), _median([r["decided"] for r in kafka])
    wrong = [r["false_missing"] + r["late"] for r in api]
    return [
        Figure(
            f"API rush: {api[0]['units']:,.0f} reports over 14:30-15:00 (simulated) in "
            f"{burst.BURST_SECONDS[scale]:.0f} s, {RUSH_CLIENTS} clients",
            f"{_median([r['api_rate'] for r in api]):,.0f} reports/s over "
            f"{_median([r['api_seconds'] for r in api]):.1f} s; answer after release p95 "
            f"{_median([r['api_behind_p95_ms'] for r in api]):.0f} ms; request p50 "
            f"{_median([r['api_p50_ms'] for r in api]):.0f} / p95 "
            f"{_median([r['api_p95_ms'] for r in api]):.0f} / p99 "
            f"{_median([r['api_p99_ms'] for r in api]):.0f} ms; answers {answers}",
            "every report answered 201/202",
            all(r["api_other"] == 0 for r in api),
        ),
        Figure(
            "API rush: 15:00 → last missing alert (the same reports straight to Kafka)",
            f"{_median(last_api):.1f} s{_each(last_api, '.1f')} via the API, "
            f"{_median(last_kafka):.1f} s{_each(last_kafka, '.1f')} via Kafka; every decision "
            f"in the warehouse {decided[0]:.1f} s / {decided[1]:.1f} s after 15:00",
            f"≤ {TARGET_LAST_MISSING_S:.0f} s",
            _median(last_api) <= TARGET_LAST_MISSING_S,
        ),
        Figure(
            "API rush: alerts right",
            "missing alerts for the withheld: "
            + ", ".join(f"{r['missing_alerts']:.0f} of {r['withheld']:.0f}" for r in api)
            + "; false missing: "
            + ", ".join(f"{r['false_missing']:.0f}" for r in api)
            + "; late: "
            + ", ".join(f"{r['late']:.0f}" for r in api),
            "no report sent before 15:00 missing or late",
            not any(wrong) and all(r["missing_alerts"] == r["withheld"] for r in api),
        ),
    ]


def figures_of(raw: list[dict[str, Any]], scale: Scale) -> list[Figure]:
    """One figure per measured quantity, the median of the runs, with its target."""
    return [*(sweep_figure(raw, c, scale) for c in CONCURRENCY), *rush_figures(raw, scale)]
