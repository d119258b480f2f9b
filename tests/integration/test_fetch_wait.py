"""Every consumer on the report path holds a fetch at most ``BAOCAO_FETCH_WAIT_MS``.

The embedded broker answers a fetch only when its wait runs out, so that wait is
added to every hop (streams/fetch_wait.py; bench/latency.py measures the effect).
Faust's own 1.5 s and kafka-python's 0.5 s defaults must not reach the broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.broker import EmbeddedBroker
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from sinks.consumer import SinkRunner
from sinks.notify.service import Notifier
from sinks.warehouse import Warehouse
from streams.app import create_app

pytestmark = pytest.mark.integration

WAIT = 123


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    with EmbeddedBroker() as broker:
        yield Settings(broker=broker.bootstrap, fetch_wait_ms=WAIT)


def test_the_default_is_short() -> None:
    assert Settings().fetch_wait_ms == 100


def test_the_stream_worker_consumer(settings: Settings) -> None:
    async def made() -> int:
        app = create_app(settings, Registry([]), Catalog.load())
        thread = app.consumer._thread  # type: ignore[attr-defined]
        consumer = thread._create_worker_consumer(app.transport)
        try:
            wait: int = consumer._fetch_max_wait_ms  # aiokafka builds its fetcher from it
        finally:
            await consumer.stop()
        return wait

    assert asyncio.run(made()) == WAIT


def test_the_sink_and_the_notifier(settings: Settings, tmp_path: Path) -> None:
    with Warehouse.connect(settings.model_copy(update={"chdb_path": tmp_path / "wh"})) as wh:
        sink = SinkRunner(settings, wh)._new_consumer()
        notify = Notifier(settings).new_consumer("alerts")
        try:
            assert sink.config["fetch_max_wait_ms"] == WAIT
            assert notify.config["fetch_max_wait_ms"] == WAIT
        finally:
            sink.close()
            notify.close()
