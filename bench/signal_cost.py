"""The detectors' cost: the worker's CPU per report with signals on and off, in one run.

The same simulated reports (the demo registry, days in order from ``FIRST_DAY``, when a
level profile is in force, so every unit builds the history its detectors and level
windows read; the simulator's late reports, corrections and rejections included) go
through fresh stacks, one worker + the warehouse service each, one of them with
``BAOCAO_SIGNALS_ENABLED=false``, two ways:
- a pre-loaded backlog drained as ``throughput.pipeline`` drains it (rate, CPU per role),
  and again until the worker and the sink are idle: roll-ups may still be owed;
- then, on the same stack, the following days at a steady 100 reports/s
  (``latency.submit_paced``): the cost per report when the worker keeps up and days
  arrive in order, as in operation.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from bench import throughput
from bench.common import TZ, Runs, Scale, collect, cpu_seconds, progress, wait_until
from bench.latency import RATE, submit_paced
from bench.record import Figure, load_now
from bench.signal_replay import Replay
from bench.stack import BenchStack
from contract import topics
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportSubmitted
from contract.registry import Registry
from contract.settings import Settings
from producers.kafka import ReportProducer
from producers.simulator import simulate
from streams.signal_watch import AREAS, engine_of

FIRST_DAY = date(2021, 6, 1)  # QĐ 2686 is in force from 31/05/2021
SEED = 24
PACED_SECONDS: dict[Scale, float] = {"small": 5.0, "full": 60.0}
OFF = {"BAOCAO_SIGNALS_ENABLED": "false"}
#: CPU share of one core under which the worker and the sink count as idle.
IDLE_SHARE = 0.05
#: Longest wait, after the last decision, for the worker's signal work to finish.
SETTLE_SECONDS = 300.0
COST_TARGET = 0.10  # at most 10 % more worker CPU per report
#: Backlog per stack. Signals on drain it slowly (and out of day order across
#: partitions, see the README), so the full size is below the throughput benchmark's.
SIZES: dict[Scale, int] = {"small": 1_000, "full": 20_000}


def chronological(n: int, first: date = FIRST_DAY) -> list[ReportSubmitted]:
    """The first n simulated submissions of the demo registry from ``first`` on, in order.

    One seed for every day (a day is planned the same in any range), so each unit's
    outbreak waves run on across days as the detectors expect; no re-sends, so each
    report gives exactly one decision.
    """
    registry, catalog = Registry.load(), Catalog.load()
    out: list[ReportSubmitted] = []
    day = first
    while len(out) < n:
        days = [day + timedelta(days=i) for i in range(30)]
        out += simulate(registry, catalog, days, TZ, seed=SEED, duplicate_share=0.0).reports
        day += timedelta(days=30)
    return out[:n]


def engine_alone(data: list[ReportSubmitted]) -> dict[str, float]:
    """CPU ms per report of the signal engine alone, in this process, on the same reports.

    Each accepted report as the worker hands it on (decided beforehand by the real
    processor), then its areas: the part of the worker's cost that is the engine's.
    """
    decided = throughput.decide_beforehand(data)[f"bench.decided.{topics.ACCEPTED}"]
    accepted = [ReportAccepted.model_validate_json(value) for _, value in decided]
    registry, catalog = Registry.load(), Catalog.load()
    replay = Replay(engine_of(Settings(), registry, catalog))
    alerts = levels = observed = 0
    t0 = time.process_time()
    for report in accepted:
        for outcome in replay.accepted(report):
            observed += 1
            alerts += len(outcome.alerts)
            levels += len(outcome.levels)
    used = time.process_time() - t0
    return {
        "engine_ms": 1000 * used / len(data),
        "engine_observed": observed,
        "engine_alerts": alerts,
        "engine_levels": levels,
    }


def idle(stack: BenchStack, pids: dict[str, int], outputs: dict[str, float]) -> throughput.CpuLook:
    """Wait until the worker and the sink idle; then look at the CPU and the outputs.

    The roll-up agent and the sink may still work after the last decision is in; the
    look is taken once both used under ``IDLE_SHARE`` of a core for two seconds.
    ``outputs`` gets how long that took and what the worker has written so far.
    """
    watched = [p for name, p in pids.items() if name.startswith("worker") or name == "warehouse"]
    t0, quiet = time.monotonic(), 0
    last = {p: cpu_seconds(p) for p in watched}
    while quiet < 2 and time.monotonic() - t0 < SETTLE_SECONDS:
        time.sleep(1.0)
        now = {p: cpu_seconds(p) for p in watched}
        quiet = quiet + 1 if max(now[p] - last[p] for p in watched) < IDLE_SHARE else 0
        last = now
    look = throughput.CpuLook.take(stack.decided() or 0, pids)
    outputs["settle_s"] = time.monotonic() - t0 - 2.0  # the two quiet seconds
    status = stack.status() or {"rows": {"alerts": 0}}
    outputs["alerts"] = int(status["rows"]["alerts"])
    outputs.update(topic_sizes(stack.bootstrap, [topics.LEVELS, AREAS]))
    return look


def topic_sizes(bootstrap: str, names: list[str]) -> dict[str, int]:
    """Messages on each topic so far (end offsets; Tansu's may be one batch short)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        out = {}
        for name in names:
            parts = consumer.partitions_for_topic(name) or set()
            ends = consumer.end_offsets([TopicPartition(name, p) for p in parts])
            out[name] = sum(ends.values())
        return out
    finally:
        consumer.close()


def one_stack(
    root: Path, backlog: list[ReportSubmitted], steady: list[ReportSubmitted], env: dict[str, str]
) -> dict[str, float]:
    """Drain ``backlog`` (``throughput.pipeline``), then send ``steady`` at ``RATE``.

    The steady part runs in the pipeline's ``settle``, on the same warm stack, so its
    days follow the backlog's with every unit's history in place.
    """
    backlog_out: dict[str, float] = {}
    steady_out: dict[str, float] = {}

    def settle(pids: dict[str, int], decided: int) -> throughput.CpuLook:
        settled = idle(stack, pids, backlog_out)
        start = throughput.CpuLook.take(settled.decided, pids)
        with ReportProducer(stack.settings) as producer:
            _, steady_out["sent_rate"] = submit_paced(producer, steady)
        total = len(backlog) + len(steady)
        wait_until("every steady decision", lambda: (stack.decided() or 0) >= total, 120)
        steady_out.update(throughput.cpu_use(start, idle(stack, pids, steady_out)))
        for key in ("alerts", topics.LEVELS, AREAS):
            steady_out[key] -= backlog_out[key]
        return settled

    with BenchStack(root, env) as stack:
        throughput.preload(stack, backlog)
        rate, missing, copies, cpu = throughput.pipeline(
            stack, len(backlog), workers=1, settle=settle
        )
        restarts = stack.worker_restarts()
    return {
        "rate": rate,
        "missing": missing + len(steady),  # the warehouse's count includes the steady part
        "copies": copies,
        "restarts": restarts,
        **cpu,
        **backlog_out,
        **{f"paced_{k}": v for k, v in steady_out.items()},
    }


def cost_once(
    run: int, backlog: list[ReportSubmitted], steady: list[ReportSubmitted], root: Path
) -> dict[str, float]:
    """Signals off and on, on the same reports; the order alternates between runs."""
    out: dict[str, float] = {}
    for on in (False, True) if run % 2 == 0 else (True, False):
        name = "on" if on else "off"
        got = one_stack(root / name, backlog, steady, {} if on else OFF)
        progress(
            f"  signals {name}: backlog {got['rate']:,.0f} reports/s, worker "
            f"{got['worker_ms']:.2f} ms per report ({got['settled_worker_ms']:.2f} until idle "
            f"{got['settle_s']:.1f} s after the last decision); {RATE}/s: worker "
            f"{got['paced_worker_ms']:.2f} ms; watchdog restarts {got['restarts']:.0f}"
        )
        out.update({f"{name}_{k}": v for k, v in got.items()})
    for key in ("worker_ms", "settled_worker_ms", "rate", "paced_worker_ms"):
        out[f"extra_{key}"] = out[f"on_{key}"] / out[f"off_{key}"] - 1
    return out


def measure(scale: Scale, runs: int) -> tuple[dict[str, Runs], list[dict[str, float]]]:
    n = SIZES[scale]
    data = chronological(n + int(RATE * PACED_SECONDS[scale]))
    backlog, steady = data[:n], data[n:]
    progress(
        f"signals cost: a backlog of {n:,} reports, {data[0].report_date} .. "
        f"{data[n - 1].report_date}, then {len(steady):,} at {RATE}/s, .. {data[-1].report_date}"
    )
    alone = engine_alone(backlog)
    progress(f"  the engine alone, in process: {alone['engine_ms']:.2f} ms per report")
    raw: list[dict[str, float]] = []

    def one_run(i: int) -> dict[str, float]:
        progress(f"signals cost run {i + 1}/{runs}")
        load = load_now()
        with tempfile.TemporaryDirectory(prefix="bench-signals-") as tmp:
            got = cost_once(i, backlog, steady, Path(tmp))
        raw.append({**got, **alone, "reports": n, "load_1min": load})
        return raw[-1]

    return collect(runs, one_run), raw


def figures(r: dict[str, Runs], scale: Scale) -> list[Figure]:
    def pair(key: str, fmt: str) -> str:
        return f"{r['off_' + key].median:{fmt}} → {r['on_' + key].median:{fmt}}"

    def extra(key: str) -> str:
        runs = r["extra_" + key]
        each = ", ".join(f"{v:+.0%}" for v in runs.values)
        return f"**{runs.median:+.0%}**" + (f" (runs: {each})" if len(runs.values) > 1 else "")

    target = f"≤ +{COST_TARGET:.0%}"
    steady = int(RATE * PACED_SECONDS[scale])
    return [
        Figure(
            f"worker CPU per report, signals off → on, at a steady {RATE} reports/s "
            f"({steady:,} simulated reports of the demo registry in day order, following the "
            "backlog below on the same stack; one worker + sink; until both are idle)",
            f"{pair('paced_worker_ms', '.2f')} ms, {extra('paced_worker_ms')}",
            target,
            r["extra_paced_worker_ms"].median <= COST_TARGET,
        ),
        Figure(
            f"the same, draining a backlog of {SIZES[scale]:,} pre-loaded reports "
            "(`throughput.pipeline`: 25–95 % of the decisions)",
            f"{pair('worker_ms', '.2f')} ms, {extra('worker_ms')}",
            target,
            r["extra_worker_ms"].median <= COST_TARGET,
        ),
        Figure(
            "the backlog until the worker and the sink are idle (the roll-ups and levels "
            f"still owed after the last decision: {r['on_settle_s'].median:.1f} s on, "
            f"{r['off_settle_s'].median:.1f} s off)",
            f"{pair('settled_worker_ms', '.2f')} ms, {extra('settled_worker_ms')}",
            target,
            r["extra_settled_worker_ms"].median <= COST_TARGET,
        ),
        Figure(
            "end to end, the backlog submitted → rows in chDB, signals off → on",
            f"{pair('rate', ',.0f')} reports/s ({r['extra_rate'].median:+.0%})",
            "",
            None,
        ),
        Figure(
            "sink and broker CPU per report, signals off → on (steady; backlog)",
            f"sink {pair('paced_warehouse_ms', '.2f')} ms, broker "
            f"{pair('paced_broker_ms', '.2f')} ms; sink {pair('warehouse_ms', '.2f')} ms, "
            f"broker {pair('broker_ms', '.2f')} ms",
            "",
            None,
        ),
        Figure(
            "the signal engine alone, in process, the backlog's reports in order (each unit "
            "and its areas, series as JSON; no Faust)",
            f"{r['engine_ms'].median:.2f} ms per report; {r['engine_observed'].median:,.0f} "
            f"evaluations, {r['engine_alerts'].median:,.0f} alerts, "
            f"{r['engine_levels'].median:,.0f} levels",
            "",
            None,
        ),
        Figure(
            "what the worker wrote with signals on (backlog; steady)",
            f"{r['on_levels'].median:,.0f} level and {r['on_signals.areas'].median:,.0f} area "
            f"messages; {r['on_paced_levels'].median:,.0f} and "
            f"{r['on_paced_signals.areas'].median:,.0f}. Missing decisions "
            f"{r['on_missing'].median + r['off_missing'].median:.0f}; watchdog restarts "
            f"{r['on_restarts'].median:.0f} on, {r['off_restarts'].median:.0f} off",
            "",
            None,
        ),
    ]
