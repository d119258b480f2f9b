"""A stalled worker is noticed from the broker's offsets and replaces itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from baocao.broker import EmbeddedBroker, create_topics
from contract.topics import TopicSpec
from streams.compat.liveness import OffsetReader, StallDetector, watch
from tests.integration.own_loop import run_in_own_loop

pytestmark = pytest.mark.integration


def run_watch(reader: OffsetReader, tps: set[TopicPartition], seconds: float) -> list[object]:
    stalls: list[object] = []

    async def go() -> None:
        await asyncio.wait_for(
            watch(
                lambda: tps,
                lambda: None,  # neither rebalancing nor recovering
                reader,
                StallDetector(limit=1.0),
                stalls.append,
                interval=0.3,
                now=time.monotonic,
            ),
            seconds,
        )

    with contextlib.suppress(TimeoutError):  # the watch runs until told to stop
        run_in_own_loop(go())
    return stalls


def test_input_waiting_without_commits_is_reported_and_progress_is_not(
    broker: EmbeddedBroker, unique: str
) -> None:
    topic, group = f"live-{unique}", f"g-{unique}"
    create_topics(broker.bootstrap, [TopicSpec(topic, 2)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for _ in range(5):  # one batch each: Tansu's end offset counts batches' first offsets
        producer.send(topic, b"x", partition=0)
        producer.flush()
    producer.close()
    waiting, idle = TopicPartition(topic, 0), TopicPartition(topic, 1)
    reader = OffsetReader([broker.bootstrap], group)
    try:
        assert reader.read([waiting, idle]) == {waiting: (0, 5), idle: (0, 0)}
        assert run_watch(reader, {waiting, idle}, 10) == [[waiting]]

        # The group commits what it read: nothing is waiting any more.
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group)
        consumer.assign([waiting])
        consumer.commit({waiting: OffsetAndMetadata(5, "", -1)})
        consumer.close()
        assert reader.read([waiting])[waiting] == (5, 5)
        assert run_watch(reader, {waiting, idle}, 3) == []
    finally:
        reader.close()


def test_restart_replaces_the_process_with_a_fresh_copy(tmp_path: object) -> None:
    code = (
        "import os, sys; from streams.compat.liveness import RESTARTS_ENV, restart_process\n"
        "n = int(os.environ.get(RESTARTS_ENV, '0')); print(os.getpid(), n, flush=True)\n"
        "if n < 2: restart_process()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BAOCAO_WORKER_RESTARTS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = [line.split() for line in out.stdout.splitlines()]
    assert [n for _, n in lines] == ["0", "1", "2"]
    assert len({pid for pid, _ in lines}) == 1  # same PID: the supervisor sees no exit
