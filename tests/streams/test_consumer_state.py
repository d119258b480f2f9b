"""The stall watchdog's picture of a worker's partitions, read from a real Faust app."""

from __future__ import annotations

import pytest
from faust.types import TP

from contract import topics
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from streams.app import create_app
from streams.compat import consumer_state


def test_each_held_input_partition_gets_faust_and_aiokafka_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(Settings(), Registry.load(), Catalog.load(), app_id="t-describe")
    consumer = app.consumer
    waiting, idle = TP(topics.SUBMITTED, 1), TP(topics.SUBMITTED, 0)
    other = TP(topics.ALERTS, 1)
    monkeypatch.setattr(consumer, "assignment", lambda: {waiting, idle, other})
    consumer._active_partitions = {idle}
    consumer._paused_partitions = {waiting}
    consumer._read_offset[idle] = 4
    consumer._committed_offset[idle] = 5
    consumer.stop_flow()  # as in a rebalance

    text = consumer_state.describe(app, [topics.SUBMITTED])

    lines = text.splitlines()
    assert lines[0] == "flow_active=False rebalancing=False in_recovery=False"
    assert lines[1] == (
        f"{topics.SUBMITTED}[0]: faust active=True paused=False buffered=False read=4 "
        "committed=5 acked_pending=0; aiokafka: not assigned"
    )
    assert lines[2].startswith(f"{topics.SUBMITTED}[1]: faust active=False paused=True ")
    assert topics.ALERTS not in text  # only the partitions asked about
    assert len(lines) == 3  # no fetcher line: this consumer never started
