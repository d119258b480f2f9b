"""Attach the stall watchdog (``streams.compat.liveness``) to a Faust app as a task."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import faust

from contract import kafka_security
from contract.settings import Settings
from streams.compat import consumer_state, liveness

log = logging.getLogger(__name__)


def install(app: faust.App, settings: Settings, on_stall: Callable[[], None]) -> None:
    """Watch ``app``'s input partitions; log and call ``on_stall`` when one stops moving."""
    limit = settings.worker_stall_seconds

    def inputs() -> set[str]:  # read when first needed: agents are attached after install
        return {name for agent in app.agents.values() for name in agent.channel.topics}

    def assigned() -> set[Any]:
        wanted = inputs()
        return {tp for tp in app.consumer.assignment() if tp.topic in wanted}

    def busy() -> liveness.Busy:
        if app.in_recovery:
            return "recovering"
        return "rebalancing" if app.rebalancing else None

    def stalled(stuck: list[Any]) -> None:
        liveness.report_stall(stuck, limit)
        restart()

    def stuck_rebalance(lasted: float) -> None:
        liveness.report_stuck_rebalance(lasted)
        restart()

    def restart() -> None:
        thread = getattr(app.consumer, "_thread", None)  # Faust's consumer runs its own loop
        loops = [asyncio.get_running_loop(), getattr(thread, "thread_loop", None)]
        stacks = liveness.task_stacks(loop for loop in loops if loop is not None)
        log.warning("where the stalled worker waits:\n%s", stacks)
        try:
            log.warning("its consumer's partitions:\n%s", consumer_state.describe(app, inputs()))
        except Exception:  # a diagnosis must never stop the restart
            log.exception("could not describe the consumer's partitions")
        on_stall()

    @app.task  # type: ignore[untyped-decorator]
    async def watch_liveness() -> None:
        reader = liveness.OffsetReader(
            settings.bootstrap_servers(), app.conf.id, **kafka_security.client_kwargs(settings)
        )
        try:
            await liveness.watch(
                assigned,
                busy,
                reader,
                liveness.StallDetector(limit),
                stalled,
                interval=min(5.0, limit / 3),
                now=time.monotonic,
                on_stuck_rebalance=stuck_rebalance,
            )
        finally:
            reader.close()
