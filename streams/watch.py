"""Faust wiring of the deadline watch: ticks per partition, tables of alerts already sent.

Tables can only be written inside stream iteration, and a write lands in the changelog
partition of the event being processed. So a timer on the leader publishes one tick
per partition (explicit partition) carrying the clock's instant, and the agent reading
partition p looks only at units whose key hashes to p: every unit's entries are
always written from the same partition, and move with it when workers come and go.
Summaries need every partition's count, so each partition publishes its share to a
topic keyed by (dataset, date) and one agent adds them up.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import faust

from contract import topics
from contract.clock import Clock
from contract.datasets import Catalog
from contract.events import Alert, ReportAccepted, ReportRejected
from contract.registry import Registry, Unit
from contract.settings import Settings
from streams import state
from streams.barrier import DeadlineBarrier
from streams.dead_letters import DeadLetterHook
from streams.deadlines import DeadlineWatch, Partial, Reported, Window
from streams.ledger import first_submission
from streams.publish import publish_acked
from streams.seed import partition_for

log = logging.getLogger(__name__)

TICKS = topics.TICKS
PARTIALS = topics.PARTIALS
Declare = Callable[[str], faust.TopicT]
AfterDecision = Callable[[ReportAccepted | ReportRejected], Awaitable[None]]


class PartitionedUnits:
    """Expected units of a window, split by the partition their key hashes to."""

    def __init__(self, watch: DeadlineWatch, partitions: int) -> None:
        self.watch = watch
        self.partitions = partitions
        self._split: dict[str, dict[int, list[Unit]]] = {}

    def of(self, window: Window, partition: int) -> list[Unit]:
        split = self._split.get(window.key)
        if split is None:
            if len(self._split) > 64:
                self._split.clear()
            split = {p: [] for p in range(self.partitions)}
            for unit in self.watch.expected(window.dataset.code, window.day):
                split[partition_for(unit.unit_id, self.partitions)].append(unit)
            self._split[window.key] = split
        return split[partition]


def reported_of(entry: Any) -> Reported | None:
    """What the watch needs of a stored ledger entry (the ledger keeps only this in memory)."""
    if not entry:
        return None
    return Reported(*first_submission(entry))


def install(
    app: faust.App,
    settings: Settings,
    registry: Registry,
    catalog: Catalog,
    clock: Clock,
    ledger: state.HotKeys,
    declare: Declare,
    alerts: faust.TopicT,
    dead_letter: DeadLetterHook,
    barrier: DeadlineBarrier,
) -> AfterDecision:
    """Add the watch's topics, tables, timer and agents; return the per-decision hook."""
    if ledger.keep is not reported_of:
        # The watch reads the ledger through `look`, which returns keep(entry): any
        # other keep would make every unit look unreported (or crash the tick).
        raise ValueError("the deadline watch needs the ledger table made with keep=reported_of")
    parts = settings.partitions
    watch = DeadlineWatch(
        registry, catalog, settings.tz, timedelta(hours=settings.watch_hold_hours)
    )
    units = PartitionedUnits(watch, parts)
    ticks, partials = declare(TICKS), declare(PARTIALS)
    sent = state.table(app, "alerts_sent", settings)
    summaries = state.table(app, "deadline_summaries", settings)
    reported = ledger.look
    # Per process, and forgotten on every rebalance, so each worker sends its counts
    # again: a partial published just as a second worker joined was never read by the
    # new owner of its partition, and the sender never sent it again, so the deadline
    # summary never came (tests/integration/test_deadline_watch.py, two workers).
    published: dict[tuple[int, str], str] = {}

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def republish(sender: Any, *_: Any, **__: Any) -> None:
        published.clear()

    # In real seconds, from the tick's broker timestamp: with a replay's fast clock
    # (`make up` runs a day in minutes, test_up one in 12 s) 30 s of *its* time passed
    # between sending a tick and reading it, so most ticks were skipped and a live
    # day's deadline could go by without its summary (seen in CI).
    stale_seconds = max(30.0, 10 * settings.watch_interval_seconds)
    app.watch = watch  # type: ignore[attr-defined]  # exposed for tests and the bench

    async def emit(found: list[Alert], at: datetime) -> None:
        # Publish, wait for the broker's acks, and only then mark as sent (see
        # streams/publish.py: held sends were lost in a rebalance while their marks
        # stayed). A crash after the acks repeats an alert instead (same alert_id,
        # dropped by the sink and the notifier).
        if not found:
            return
        await publish_acked([(a.unit_id.encode(), a.to_json()) for a in found], alerts)
        for alert in found:
            for aid in (alert.alert_id, *alert.details.get("covers", ())):
                sent[aid] = at.isoformat()

    @app.timer(interval=settings.watch_interval_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def send_ticks() -> None:
        """Publish the clock's instant to every partition of the tick topic."""
        body = json.dumps({"now": clock.now().isoformat()}).encode()
        for p in range(parts):
            await ticks.send(key=b"tick", value=body, partition=p)

    @app.agent(ticks, name="watch_deadlines")
    async def watch_deadlines(stream: faust.StreamT[bytes]) -> None:
        """Send due reminders and missing alerts for this partition's units."""
        async for event in stream.events():
            p = event.message.partition
            try:
                now = datetime.fromisoformat(json.loads(event.value)["now"])
            except (ValueError, KeyError, TypeError) as exc:
                await dead_letter(event, f"malformed tick: {type(exc).__name__}: {exc}")
                continue
            if time.time() - event.message.timestamp > stale_seconds:
                continue  # a backlog after a restart: skip old looks
            # Past a deadline, first decide what was sent before it (see streams/barrier.py).
            past = {w.deadline for w in watch.windows(now) if now >= w.deadline}
            if past and not await barrier.passed(p, past):
                continue  # the next tick looks again
            share = functools.partial(units.of, partition=p)
            found = watch.evaluate(now, share, reported, sent.__contains__, p)
            # Counts first: the summary for leadership should not queue behind thousands
            # of per-unit alerts (the bench's deadline -> summary time).
            fresh: dict[tuple[int, str], str] = {}
            messages: list[tuple[bytes, bytes]] = []
            for partial in found.partials:
                key = f"{partial.dataset}|{partial.day}"
                body = json.dumps(partial.to_json(), sort_keys=True)
                if published.get((p, key)) == body:
                    continue
                fresh[(p, key)] = body
                message = {"as_of": now.isoformat(), "partial": partial.to_json()}
                messages.append((key.encode(), json.dumps(message).encode()))
            await publish_acked(messages, partials)  # acked before we stop re-sending it
            published.update(fresh)
            await emit(found.alerts, now)

    @app.agent(partials, name="summarize_deadlines")
    async def summarize_deadlines(stream: faust.StreamT[bytes]) -> None:
        """Add up the partitions' counts and send each collective summary once."""
        async for event in stream.events():
            try:
                message = json.loads(event.value)
                partial = Partial.from_json(message["partial"])
                at = datetime.fromisoformat(message["as_of"])
            except (ValueError, KeyError, TypeError) as exc:
                await dead_letter(event, f"malformed partial: {type(exc).__name__}: {exc}")
                continue
            key = f"{partial.dataset}|{partial.day}"
            counts = dict(summaries.get(key) or {})
            counts[str(partial.partition)] = message["partial"]
            summaries[key] = counts
            shares = {int(k): Partial.from_json(v) for k, v in counts.items()}
            await emit(list(watch.summarize(shares, parts, at, sent.__contains__)), at)

    async def after_decision(decision: ReportAccepted | ReportRejected) -> None:
        """Raise ``late`` and ``rejected`` alerts for what process_submissions decided."""
        # sent.has, not `in`: each report's alert id is checked once, never looked at again.
        alert: Alert | None = None
        now = clock.now()
        if isinstance(decision, ReportAccepted):
            if decision.timeliness == "late":
                alert = watch.after_accepted(decision, now, sent.has)
        else:
            alert = watch.after_rejected(decision, now, sent.has)
        if alert is not None:
            await emit([alert], now)

    return after_decision
