"""The Faust application: topics, the ledger table and the agent that processes reports.

Faust's per-event machinery costs ~0.7 ms per event on these machines, so the agent
stays lean: decode, decide, send. No group_by: the topic is keyed by unit_id, so a
unit's ledger entries already live in the partition its reports arrive on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import faust
from faust.types import TP

from contract import kafka_security, logs, topics
from contract.clock import Clock, configured
from contract.datasets import Catalog
from contract.errors import BaocaoError
from contract.events import ReportAccepted, SourceRef
from contract.logs import said
from contract.registry import Registry
from contract.settings import Settings
from streams import approval_alerts, compat, dead_letters, signal_watch, state, watch
from streams.barrier import DeadlineBarrier
from streams.processor import Stored, SubmissionProcessor

log = logging.getLogger(__name__)


class StateWriteFailed(BaocaoError):
    """The worker's table refused a write: the report must be read again, not set aside."""


def faust_settings(settings: Settings) -> dict[str, Any]:
    """Faust options that keep a worker in its group on a small, in-memory broker."""
    out: dict[str, Any] = {
        "broker": ";".join(f"kafka://{s}" for s in settings.bootstrap_servers()),
        **state.app_settings(settings),  # tables in memory or in RocksDB
        # Not exactly_once: docs/known-issues.md, "exactly_once on Apache Kafka".
        "processing_guarantee": "at_least_once",
        # Publish what an event produced before committing its offset. Faust's default
        # sends independently of the commit: a stuck producer then lost accepted
        # reports whose inputs were already committed (seen in the kill/restart test).
        "stream_publish_on_commit": True,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": 1,
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 2.0,
        # Faust fetches nothing while it rebalances and restores tables; past this
        # interval aiokafka leaves the group and will not rejoin until it fetches, which
        # Faust waits for the rebalance to end to do (aio-libs/aiokafka#1187;
        # tests/integration/test_idle_member.py). A stuck worker is the liveness
        # watchdog's to catch (streams/compat/liveness.py), not this interval's.
        "broker_max_poll_interval": 60.0,
        # Without a cap one poll can take longer than the interval to drain and the
        # worker silently leaves its group (docs/design.md, Faust pitfalls).
        "broker_max_poll_records": 500,
        # Decisions wait for the commit (above), so this bounds their latency
        # (0.5 s by default, not Faust's 2.8 s: contract/settings.py).
        "broker_commit_interval": settings.worker_commit_seconds,
        "consumer_auto_offset_reset": "earliest",
        "web_enabled": settings.worker_web_port > 0,  # GET / answers while the loop runs
        "timezone": settings.tz,
        **kafka_security.faust_kwargs(settings),  # TLS/SASL; the URL stays kafka://
    }
    if settings.worker_web_port:
        out |= {
            "web_port": settings.worker_web_port,
            "web_bind": settings.worker_web_host,
            "web_host": settings.worker_web_host,
            # /table/ would serve the ledger's contents; /router/ is for table_route.
            "web_tables_enabled": False,
            "web_router_enabled": False,
        }
    if settings.log_format == "json":
        out["logging_config"] = logs.faust_logging_config()
    return out


def create_app(
    settings: Settings,
    registry: Registry,
    catalog: Catalog,
    clock: Clock | None = None,
    app_id: str = topics.STREAMS_APP_ID,
    topic_prefix: str = "",
    on_stall: Callable[[], None] | None = None,
) -> faust.App:
    """Build the stream worker's app with every topic declared and the agent attached.

    ``clock``: by default the configured one (``BAOCAO_CLOCK_FILE``, else the system's).
    ``on_stall``: what to do when the worker stops making progress (the ``worker``
    command restarts the process; None, as in tests and benchmarks, does not watch).
    """
    app = faust.App(app_id, **faust_settings(settings))
    # Every workaround for Faust, aiokafka and the broker (docs/known-issues.md).
    fixes = compat.install(app, settings, on_stall)
    parts = settings.partitions

    def declare(name: str) -> faust.TopicT:
        return app.topic(
            topic_prefix + name, partitions=parts, key_serializer="raw", value_serializer="raw"
        )

    submitted = declare(topics.SUBMITTED)
    outputs = {name: declare(name) for name in (topics.ACCEPTED, topics.REJECTED)}
    # No value_type: entries are plain JSON objects (a type here must be a faust Record,
    # or recovery from the changelog fails on every entry).
    ledger = state.table(app, "ledger", settings, keep=watch.reported_of)
    clock = clock or configured(settings.clock_file)
    processor = SubmissionProcessor(
        registry, catalog, settings.tz, clock, settings.max_payload_bytes
    )
    alerts = declare(topics.ALERTS)
    dead_letter = dead_letters.install(app, settings, clock, declare, alerts)
    approval_alerts.install(app, settings, registry, clock, declare, alerts)  # returned alerts
    barrier = _barrier(app, submitted.get_topic_name(), settings)
    after_decision = watch.install(
        app, settings, registry, catalog, clock, ledger, declare, alerts, dead_letter, barrier
    )
    after_accepted = (
        signal_watch.install(app, settings, registry, catalog, clock, declare, alerts, dead_letter)
        if settings.signals_enabled
        else None
    )
    app.processor = processor  # type: ignore[attr-defined]  # exposed for status and tests
    app.ledger = ledger  # type: ignore[attr-defined]  # exposed for tests

    def put(key: str, value: Stored) -> None:
        try:
            ledger[key] = value
        except Exception as exc:  # the store's fault, not the report's: see decide
            raise StateWriteFailed(f"{type(exc).__name__}: {exc}") from exc

    order = fixes.offset_order(app, submitted.get_topic_name())

    @app.agent(submitted, name="process_submissions")
    async def process_submissions(stream: faust.StreamT[bytes]) -> None:
        """Decide each submission; tell the deadline barrier how far the partition is."""
        async for event in stream.events():
            await decide(event)
            barrier.decided(event.message.partition, event.message.offset)

    async def decide(event: Any) -> None:
        """Validate one submission and publish it as accepted or rejected."""
        msg = event.message
        source = SourceRef(topic=msg.topic, partition=msg.partition, offset=msg.offset)
        gap = order.skipped(msg.partition, msg.offset)
        if gap is not None:
            log.error(
                said(
                    "{topic}[{p}]: offsets {first}..{last} never reached the stream; {then}.",
                    "Bỏ sót offset {first}..{last}; {then_vi}.",
                    topic=msg.topic,
                    p=msg.partition,
                    first=gap.start,
                    last=gap.stop - 1,
                    then="restarting to read them in order" if on_stall else "continuing",
                    then_vi="khởi động lại để đọc đúng thứ tự" if on_stall else "tiếp tục",
                )
            )
            if on_stall is not None:
                on_stall()  # the process is replaced; nothing after this runs
        try:
            out = processor.process(event.key, event.value, source, ledger.get, put)
        except StateWriteFailed as exc:
            # A report the ledger could not record is read again, never dead-lettered: a
            # fresh Faust consumer on Apache Kafka can see a changelog topic with 0
            # partitions and refuse the write (PartitionsMismatch; test_pipeline[kafka]).
            log.error(
                "could not record %s in the ledger (%s); %s. Không ghi được vào sổ; %s.",
                source,
                exc,
                "restarting to read it again" if on_stall else "stopping",
                "khởi động lại để đọc lại" if on_stall else "dừng",
            )
            if on_stall is not None:
                on_stall()  # the process is replaced; its offset was never committed
            raise
        except Exception as exc:  # never let one message stop the worker
            log.exception("could not process %s; dead-lettered", source)
            await dead_letter(event, f"{type(exc).__name__}: {exc}")
            return
        if out is not None:
            if out.dead_letter is not None:  # not a report at all: keep it whole too
                await dead_letter(event, out.dead_letter)
            await outputs[out.topic].send(key=out.key, value=out.value)
            await after_decision(out.event)  # late / rejected alerts
            if after_accepted is not None and isinstance(out.event, ReportAccepted):
                await after_accepted(out.event)  # signals and levels

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def say_which_partitions(sender: Any, assigned: set[Any], **_: Any) -> None:
        """Which partitions this worker decides for now (read by the scale-out test)."""
        order.reset()  # each partition starts again from its committed offset
        mine = sorted(tp.partition for tp in assigned if tp.topic == submitted.get_topic_name())
        log.info("this worker holds %s partitions %s", submitted.get_topic_name(), mine)

    return app


def _barrier(app: faust.App, topic: str, settings: Settings) -> DeadlineBarrier:
    """The deadline barrier over this app's consumer of the submissions topic."""

    async def end_offset(partition: int) -> int:
        tp = TP(topic, partition)
        return int((await app.consumer.highwaters(tp))[tp])

    def committed(partition: int) -> int | None:
        # Faust's record of the group's committed offsets (set when a partition is
        # assigned, moved on every commit); it has no public accessor.
        offset = getattr(app.consumer, "_committed_offset", {}).get(TP(topic, partition))
        return None if offset is None else int(offset)

    return DeadlineBarrier(end_offset, committed, max(60.0, 10 * settings.watch_interval_seconds))
