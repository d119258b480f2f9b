"""The detectors' cost as figures with their target (``bench.signal_cost`` measures them)."""

from __future__ import annotations

from bench.common import Runs, Scale
from bench.latency import RATE
from bench.record import Figure
from bench.signal_cost import COST_TARGET, PACED_SECONDS, SIZES


def unfinished(raw: list[dict[str, float]], scale: Scale) -> str:
    """The backlog drains that did not finish: how far each got, how often restarted."""
    return "; ".join(
        f"run {i + 1}, signals {name}: {run[name + '_decided']:,.0f} of {SIZES[scale]:,} "
        f"decisions, {run[name + '_restarts']:.0f} watchdog restarts"
        for i, run in enumerate(raw)
        for name in ("off", "on")
        if run.get(f"{name}_failed")
    )


def figures(r: dict[str, Runs], scale: Scale, raw: list[dict[str, float]]) -> list[Figure]:
    """The figures of the runs that finished, then what the others reached."""
    target = f"≤ +{COST_TARGET:.0%}"
    runs, done = r["runs"].median, r["done_runs"].median
    lost = unfinished(raw, scale)
    rows = (
        finished(r, scale)
        if done
        else [Figure("worker CPU per report, signals off → on", "not measured", target, False)]
    )
    if lost:
        what = f"backlog drains that did not finish ({runs - done:.0f} of {runs:.0f} runs)"
        rows.append(Figure(what, lost, "", None))
    return rows


def finished(r: dict[str, Runs], scale: Scale) -> list[Figure]:
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
            f"worker CPU per report beyond its idle loop, signals off → on, at a steady {RATE} "
            f"reports/s ({steady:,} simulated reports of the demo registry in day order, "
            "following the backlog below on the same stack; until the worker and the sink idle; "
            "the idle loop's CPU (timers, commits) measured on the same stack before)",
            f"{pair('paced_marginal_worker_ms', '.2f')} ms, {extra('paced_marginal_worker_ms')}",
            target,
            r["extra_paced_marginal_worker_ms"].median <= COST_TARGET,
        ),
        Figure(
            f"the same with the idle loop's share (all the worker's CPU at {RATE} reports/s)",
            f"{pair('paced_worker_ms', '.2f')} ms, {extra('paced_worker_ms')}",
            target,
            r["extra_paced_worker_ms"].median <= COST_TARGET,
        ),
        Figure(
            f"worker CPU per report, draining a backlog of {SIZES[scale]:,} pre-loaded reports "
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
            f"{r['on_levels'].median:,.0f} level and {r['on_signals.subjects'].median:,.0f} signal "
            f"update messages; {r['on_paced_levels'].median:,.0f} and "
            f"{r['on_paced_signals.subjects'].median:,.0f}. Missing decisions "
            f"{r['on_missing'].median + r['off_missing'].median:.0f}; watchdog restarts "
            f"{r['on_restarts'].median:.0f} on, {r['off_restarts'].median:.0f} off",
            "",
            None,
        ),
    ]
