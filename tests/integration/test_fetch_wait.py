"""The sink and the notifier hold a fetch at most ``BAOCAO_FETCH_WAIT_MS``.

The embedded broker answers a fetch only when its wait runs out, so that wait is
added to their latency (bench/latency.py measures it); kafka-python's 0.5 s default
must not reach the broker. (The Faust worker keeps Faust's 1.5 s: contract/settings.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.broker import BrokerKind, EmbeddedBroker
from contract import topics
from contract.settings import Settings
from sinks.consumer import SinkRunner
from sinks.notify.service import Notifier
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

WAIT = 123


@pytest.fixture(scope="module")
def settings(broker_kind: BrokerKind) -> Iterator[Settings]:
    with EmbeddedBroker(kind=broker_kind) as broker:
        yield Settings(broker=broker.bootstrap, fetch_wait_ms=WAIT)


def test_the_default_is_short() -> None:
    assert Settings().fetch_wait_ms == 100


def test_the_sink_and_the_notifier(settings: Settings, tmp_path: Path) -> None:
    with Warehouse.connect(settings.model_copy(update={"chdb_path": tmp_path / "wh"})) as wh:
        sink = SinkRunner(settings, wh)._new_consumer()
        notify = Notifier(settings).new_consumer(topics.ALERTS)
        try:
            assert sink.config["fetch_max_wait_ms"] == WAIT
            assert notify.config["fetch_max_wait_ms"] == WAIT
        finally:
            sink.close()
            notify.close()
