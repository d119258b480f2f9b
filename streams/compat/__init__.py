"""Every workaround for Faust, aiokafka and the embedded broker, applied once per app.

One module per workaround; docs/known-issues.md gives each its upstream issue, the
symptom, the test that shows it and when it can go. ``BAOCAO_COMPAT_OFF`` (a comma
list of ``WORKAROUNDS`` names, ``Settings.compat_off``) turns some off for
experiments: ``python -m bench.workaround_loops`` runs the fault tests both ways.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

import faust
from kafka import KafkaConsumer

from contract import kafka_security, logs
from contract.settings import CompatName, Settings
from streams.compat import (
    offset_order,
    producer_topics,
    recovery_offsets,
    recovery_rebalance,
    seek_committed,
    stall_watch,
    stop_deadline,
    versions,
)
from streams.compat.versions import AIOKAFKA, FAUST, WrittenFor

log = logging.getLogger(__name__)

#: Each workaround with the libraries whose behaviour it was written against.
WORKAROUNDS: dict[CompatName, tuple[WrittenFor, ...]] = {
    "log_repeats": (AIOKAFKA,),  # its loggers' names
    "producer_topics": (AIOKAFKA,),
    "seek_committed": (FAUST, AIOKAFKA),
    "recovery_offsets": (FAUST,),
    "recovery_rebalance": (FAUST,),
    "offset_order": (FAUST,),
    "liveness": (FAUST, AIOKAFKA),  # the diagnostic reads both consumers' private state
    "stop_deadline": (FAUST,),
}
assert set(WORKAROUNDS) == set(get_args(CompatName)), "one entry per BAOCAO_COMPAT_OFF name"

#: What each patch replaces in the libraries (checked before it applies).
_HOOKS: dict[CompatName, dict[str, object]] = {
    "producer_topics": producer_topics.HOOKS,
    "seek_committed": seek_committed.HOOKS,
    "recovery_offsets": recovery_offsets.HOOKS,
    "recovery_rebalance": recovery_rebalance.HOOKS,
    "offset_order": offset_order.HOOKS,
    "stop_deadline": stop_deadline.HOOKS,
}


@dataclass(frozen=True)
class Installed:
    """The workarounds an app runs with."""

    off: frozenset[CompatName]

    def on(self, name: CompatName) -> bool:
        return name not in self.off

    def offset_order(self, app: faust.App, topic: str) -> offset_order.OffsetOrder:
        """The check that a stream's offsets follow each other, with ``app``'s commits of
        ``topic`` capped by it (a no-op when off)."""
        order = offset_order.OffsetOrder(checking=self.on("offset_order"))
        if order.checking:
            offset_order.limit_commits(app, topic, order)
        return order


def install(
    app: faust.App, settings: Settings, on_stall: Callable[[], None] | None = None
) -> Installed:
    """Apply to ``app`` (and, for patches, the process) every workaround not switched off.

    ``on_stall``: how the worker replaces itself (None, as in tests and benchmarks:
    no stall watchdog).
    """
    off = frozenset(settings.compat_off)
    if off:
        log.warning(
            logs.said(
                "workarounds off (BAOCAO_COMPAT_OFF): {names}; see docs/known-issues.md.",
                "Đã tắt các bản vá: {names}.",
                names=", ".join(sorted(off)),
            )
        )
    for name in WORKAROUNDS:
        if name not in off:
            versions.check(name, WORKAROUNDS[name], _HOOKS.get(name, {}))
    if "log_repeats" not in off:
        logs.limit_repeats()  # a broker outage would log thousands of retries a second
    producer_topics.install("producer_topics" not in off)
    seek_committed.install("seek_committed" not in off)
    recovery_rebalance.install("recovery_rebalance" not in off)
    if "recovery_offsets" not in off:
        recovery_offsets.install(app, lambda: _offsets_consumer(settings))
    if on_stall is not None and settings.worker_stall_seconds > 0 and "liveness" not in off:
        stall_watch.install(app, settings, on_stall)
    return Installed(off)


def worker(app: faust.App, settings: Settings, **kwargs: Any) -> faust.Worker:
    """The Faust worker for ``app``: its stop bounded in time unless ``stop_deadline`` is off."""
    if "stop_deadline" in settings.compat_off:
        return faust.Worker(app, **kwargs)
    return stop_deadline.worker(app, settings.worker_stop_seconds, **kwargs)


def _offsets_consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(), **kafka_security.client_kwargs(settings)
    )
