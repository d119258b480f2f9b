"""Why the workers' poll interval is long: a member that stops fetching leaves its group
and, until it fetches again, never rejoins (aio-libs/aiokafka#1187).

Faust fetches nothing while it rebalances and restores its tables. When that pause
outlasted ``broker_max_poll_interval`` (it was 10 s; two rebalances and a recovery took
11 s on Tansu), aiokafka left the group, then refused to rejoin because the consumer was
idle, while Faust waited for the rebalance to end before fetching again: the worker sat
in a rebalance until the stall watchdog restarted it
(tests/integration/test_signals.py, the rebalance-and-restart test; docs/known-issues.md).
This test shows aiokafka's side of it with a plain consumer on a real broker.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from baocao.broker import EmbeddedBroker, create_topics
from contract.topics import TopicSpec
from tests.integration.own_loop import run_in_own_loop

pytestmark = pytest.mark.integration

POLL_INTERVAL_MS = 3_000


def member(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        max_poll_interval_ms=POLL_INTERVAL_MS,
        auto_offset_reset="earliest",
    )


async def fetch_until(
    members: list[AIOKafkaConsumer], holds: list[int], seconds: float
) -> list[int]:
    """Each member fetches (which is what keeps it in its group) until each holds as many
    partitions as ``holds`` says, or ``seconds`` pass; how many each holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.gather(*(m.getmany(timeout_ms=200) for m in members))
        if [len(m.assignment()) for m in members] == holds:
            break
    return [len(m.assignment()) for m in members]


async def idle_member_story(bootstrap: str, topic: str, group: str) -> None:
    idle, busy = member(bootstrap, topic, group), member(bootstrap, topic, group)
    await idle.start()
    try:
        assert await fetch_until([idle], [2], 30) == [2], "the first member never got both"
        # The application stops fetching, as Faust does while it rebalances and recovers.
        await asyncio.sleep(POLL_INTERVAL_MS / 1000 + 3)
        await busy.start()
        # The idle member has left by itself: the second one is given every partition ...
        assert await fetch_until([busy], [2], 30) == [2]
        # ... and the idle one stays out for as long as it does not fetch.
        await asyncio.sleep(8)
        assert await fetch_until([busy], [1], 1) == [2], "the idle member rejoined by itself"
        # Once it fetches again it rejoins and the partitions are shared.
        assert await fetch_until([idle, busy], [1, 1], 45) == [1, 1]
    finally:
        await asyncio.gather(idle.stop(), busy.stop())


def test_a_member_that_stops_fetching_leaves_and_stays_out_until_it_fetches(
    broker: EmbeddedBroker, unique: str
) -> None:
    topic = f"idle-member-{unique}"
    create_topics(broker.bootstrap, [TopicSpec(topic, 2)])
    # not asyncio.run here: the session's browser may hold a loop in the main thread
    run_in_own_loop(idle_member_story(broker.bootstrap, topic, f"idle-{unique}"))
