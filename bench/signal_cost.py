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
from bench.common import TZ, Runs, Scale, cpu_seconds, progress, wait_until
from bench.latency import RATE, submit_paced
from bench.record import load_now
from bench.signal_replay import Replay
from bench.stack import BenchStack
from contract import topics
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportSubmitted
from contract.registry import Registry
from contract.settings import Settings
from producers.kafka import ReportProducer
from producers.simulator import simulate
from streams.signal_watch import ROLL_UP_WITHIN_S, SUBJECTS, engine_of

FIRST_DAY = date(2021, 6, 1)  # QĐ 2686 is in force from 31/05/2021
SEED = 24
PACED_SECONDS: dict[Scale, float] = {"small": 5.0, "full": 60.0}
OFF = {"BAOCAO_SIGNALS_ENABLED": "false"}
#: CPU share of one core under which the worker and the sink count as idle.
IDLE_SHARE = 0.05
#: Longest wait, after the last decision, for the worker's signal work to finish.
SETTLE_SECONDS = 300.0
COST_TARGET = 0.10  # at most 10 % more worker CPU per report
#: Reports whose area updates one roll-up batch holds at a steady 100 reports/s: two
#: updates each (district, province) over ``ROLL_UP_WITHIN_S``.
STEADY_BATCH = int(RATE * ROLL_UP_WITHIN_S)
#: Backlog per stack. With signals on a worker drains it slowly, out of day order across
#: partitions (docs/benchmarks.md): 20,000 reports did not finish in 580 s, the worker
#: restarted by its watchdog again and again, so the full size is 5,000.
SIZES: dict[Scale, int] = {"small": 1_000, "full": 5_000}


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
    processor), with its areas rolled up per ``STEADY_BATCH`` reports, as the roll-up
    agent gets them at a steady 100 reports/s: the part of the worker's cost that is
    the engine's.
    """
    decided = throughput.decide_beforehand(data)[f"bench.decided.{topics.ACCEPTED}"]
    accepted = [ReportAccepted.model_validate_json(value) for _, value in decided]
    registry, catalog = Registry.load(), Catalog.load()
    replay = Replay(engine_of(Settings(), registry, catalog))
    alerts = levels = observed = 0
    t0 = time.process_time()
    for i in range(0, len(accepted), STEADY_BATCH):
        for outcome in replay.accepted(accepted[i : i + STEADY_BATCH]):
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
    ``outputs`` gets how long that took, the worker's CPU share while idle (timers,
    commits, heartbeats) and what the worker has written so far.
    """
    worker = pids["worker-0"]
    watched = [worker, pids["warehouse"]]
    t0, quiet, idle_cpu = time.monotonic(), 0, 0.0
    last = {p: cpu_seconds(p) for p in watched}
    while quiet < 2 and time.monotonic() - t0 < SETTLE_SECONDS:
        time.sleep(1.0)
        now = {p: cpu_seconds(p) for p in watched}
        calm = max(now[p] - last[p] for p in watched) < IDLE_SHARE
        quiet, idle_cpu = (quiet + 1, idle_cpu + now[worker] - last[worker]) if calm else (0, 0.0)
        last = now
    look = throughput.CpuLook.take(stack.decided() or 0, pids)
    outputs["look_at"] = time.monotonic()
    outputs["settle_s"] = outputs["look_at"] - t0 - 2.0  # the two quiet seconds
    outputs["idle_worker_share"] = idle_cpu / 2.0
    status = stack.status() or {"rows": {"alerts": 0}}
    outputs["alerts"] = int(status["rows"]["alerts"])
    outputs.update(topic_sizes(stack.bootstrap, [topics.LEVELS, SUBJECTS]))
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
        start, t0 = throughput.CpuLook.take(settled.decided, pids), time.monotonic()
        with ReportProducer(stack.settings) as producer:
            _, steady_out["sent_rate"] = submit_paced(producer, steady)
        total = len(backlog) + len(steady)
        wait_until("every steady decision", lambda: (stack.decided() or 0) >= total, 120)
        steady_out.update(throughput.cpu_use(start, idle(stack, pids, steady_out)))
        for key in ("alerts", topics.LEVELS, SUBJECTS):
            steady_out[key] -= backlog_out[key]
        # What the worker spends per report beyond its idle loop over the same time.
        overhead = backlog_out["idle_worker_share"] * (steady_out["look_at"] - t0)
        steady_out["marginal_worker_ms"] = steady_out["worker_ms"] - 1000 * overhead / len(steady)
        return settled

    with BenchStack(root, env) as stack:
        throughput.preload(stack, backlog)
        try:
            rate, missing, copies, cpu = throughput.pipeline(
                stack, len(backlog), workers=1, settle=settle
            )
        except TimeoutError as exc:  # a finding, not a crash: say how far it got
            progress(f"  did not finish: {exc}")
            return {
                "failed": 1.0,
                "decided": stack.decided() or 0,
                "restarts": stack.worker_restarts(),
            }
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
        out.update({f"{name}_{k}": v for k, v in got.items()})
        if got.get("failed"):
            continue
        progress(
            f"  signals {name}: backlog {got['rate']:,.0f} reports/s, worker "
            f"{got['worker_ms']:.2f} ms per report ({got['settled_worker_ms']:.2f} until idle "
            f"{got['settle_s']:.1f} s after the last decision); {RATE}/s: worker "
            f"{got['paced_worker_ms']:.2f} ms; watchdog restarts {got['restarts']:.0f}"
        )
    if failed(out):
        return out
    for key in (
        "worker_ms",
        "settled_worker_ms",
        "rate",
        "paced_worker_ms",
        "paced_marginal_worker_ms",
    ):
        out[f"extra_{key}"] = out[f"on_{key}"] / out[f"off_{key}"] - 1
    return out


def failed(run: dict[str, float]) -> bool:
    return bool(run.get("on_failed") or run.get("off_failed"))


def measure(scale: Scale, runs: int) -> tuple[dict[str, Runs], list[dict[str, float]]]:
    """Every run's figures; the medians are over the runs that finished (``done_runs``)."""
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

    done = [r for r in (one_run(i) for i in range(runs)) if not failed(r)]
    keys = set.intersection(*(set(r) for r in done)) if done else set()
    medians = {k: Runs(tuple(r[k] for r in done)) for k in keys}
    return {**medians, "done_runs": Runs((len(done),)), "runs": Runs((runs,))}, raw
