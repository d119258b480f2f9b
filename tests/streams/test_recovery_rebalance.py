"""A rebalance that lands during a table recovery restarts it instead of crashing the
worker (streams/compat/recovery_rebalance.py), on Faust's own Recovery service."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator

import faust
import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from faust.tables.recovery import RebalanceAgain
from faust.types import TP

from streams.compat import recovery_rebalance


class SeekingConsumer:
    """Seeks as Faust's aiokafka driver does (``AIOKafkaConsumerThread._seek_wait``):
    through aiokafka's own ``seek``, which checks the offset before anything else."""

    def __init__(self) -> None:
        self.aiokafka = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
        self.sought: dict[TP, int] = {}

    async def seek_wait(self, offsets: dict[TP, int]) -> None:
        for tp, offset in offsets.items():
            if not isinstance(offset, int) or offset < 0:
                self.aiokafka.seek(tp, offset)  # raises as in the worker's log
            self.sought[tp] = offset


@pytest.fixture
def faust_own_seek() -> Iterator[None]:
    recovery_rebalance.install(on=False)
    yield
    recovery_rebalance.install()  # as every worker runs


@pytest.fixture
def patched() -> None:
    recovery_rebalance.install()  # as streams.compat.install does for each app


def standby_seek_after_a_rebalance() -> tuple[type[BaseException] | None, dict[TP, int]]:
    """What the standby seek of a recovery raises when a rebalance came after the
    recovery built its offsets: the state ``Recovery.on_rebalance`` leaves."""

    async def run() -> tuple[type[BaseException] | None, dict[TP, int]]:
        app = faust.App("t-recovery-rebalance", broker="kafka://127.0.0.1:1", store="memory://")
        table = app.Table("counts", default=int, partitions=2)
        recovery = app.tables.recovery
        consumer = SeekingConsumer()
        built = TP(table.changelog_topic.get_topic_name(), 0)
        recovery.add_standby(table, built)
        recovery.standby_offsets[built] = 4  # this recovery built it
        # The rebalance: a new standby partition, no offset yet, a new recovery signalled.
        recovery.add_standby(table, TP(built.topic, 1))
        recovery.signal_recovery_start.set()
        try:
            await recovery._wait(
                recovery._seek_offsets(
                    consumer, recovery.standby_tps, recovery.standby_offsets, "standby"
                )
            )
        except (RebalanceAgain, ValueError) as exc:
            return type(exc), consumer.sought
        return None, consumer.sought

    # A thread of its own: the session's Playwright (sync API) keeps a loop running here.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.mark.usefixtures("patched")
def test_the_recovery_starts_again_with_the_new_assignment() -> None:
    raised, sought = standby_seek_after_a_rebalance()
    assert raised is RebalanceAgain  # Faust's loop answers it by recovering again
    assert sought == {}  # nothing sought for an assignment that is gone


@pytest.mark.usefixtures("faust_own_seek")
def test_faust_alone_seeks_none_and_the_worker_crashes() -> None:
    """The upstream behaviour this works around: the seek fails before the signal counts."""
    raised, _ = standby_seek_after_a_rebalance()
    assert raised is ValueError
