"""A worker's commit waits until the broker has its outputs, and refuses after a failed
send (streams/delivery.py); outputs are not held until the commit."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import faust
import pytest
from faust.exceptions import ProducerSendError
from faust.types import TP

from contract.settings import Settings
from streams import delivery
from streams.app import faust_settings

TP0 = TP("t-reports", 0)


def consumer_of(app_id: str) -> tuple[faust.App, Any, delivery.Deliveries, mock.AsyncMock]:
    """A Faust app as the worker configures it, its consumer with offset 5 of ``TP0`` to
    commit, and a record of what it commits (no broker is asked)."""
    app = faust.App(app_id, **{**faust_settings(Settings()), "broker": "kafka://127.0.0.1:1"})
    deliveries = delivery.install(app)
    consumer = app.consumer
    committed = mock.AsyncMock(return_value=True)
    consumer._filter_committable_offsets = lambda tps: {TP0: 5}
    consumer._commit_offsets = committed
    consumer.crash = mock.AsyncMock()
    return app, consumer, deliveries, committed


def test_the_worker_sends_at_once_rather_than_at_the_commit() -> None:
    settings = faust_settings(Settings())
    assert settings["stream_publish_on_commit"] is False


def test_a_commit_waits_until_every_earlier_send_is_acknowledged() -> None:
    async def run() -> None:
        _, consumer, deliveries, committed = consumer_of("delivery-wait")
        sent: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        deliveries.track(sent)
        commit = asyncio.ensure_future(consumer._commit_tps([TP0], start_new_transaction=False))
        await asyncio.sleep(0.05)
        assert not commit.done() and committed.await_count == 0  # the broker has not answered
        sent.set_result("metadata")
        assert await asyncio.wait_for(commit, 1.0) is True
        committed.assert_awaited_once()
        assert committed.await_args.args[0] == {TP0: 5}
        assert len(deliveries) == 0

    asyncio.run(run())


def test_a_send_the_broker_refused_crashes_the_worker_instead_of_committing() -> None:
    async def run() -> None:
        _, consumer, deliveries, committed = consumer_of("delivery-refused")
        sent: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        deliveries.track(sent)
        sent.set_exception(RuntimeError("KafkaTimeoutError: batch expired"))
        await asyncio.sleep(0)  # the done callback runs
        assert await consumer._commit_tps([TP0], start_new_transaction=False) is False
        committed.assert_not_awaited()
        (exc,), _ = consumer.crash.await_args
        assert isinstance(exc, ProducerSendError) and "batch expired" in str(exc)
        # and every later commit too: the events of that send must be read again
        assert await consumer._commit_tps([TP0], start_new_transaction=False) is False
        committed.assert_not_awaited()

    asyncio.run(run())


def test_a_cancelled_send_counts_as_undelivered() -> None:
    async def run() -> None:
        deliveries = delivery.Deliveries()
        sent: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        deliveries.track(sent)
        sent.cancel()
        await asyncio.sleep(0)
        with pytest.raises(ProducerSendError, match="cancelled"):
            await deliveries.settle()

    asyncio.run(run())


def test_a_commit_with_nothing_sent_does_not_wait() -> None:
    async def run() -> None:
        _, consumer, _, committed = consumer_of("delivery-idle")
        assert await asyncio.wait_for(consumer._commit_tps([TP0], False), 1.0) is True
        committed.assert_awaited_once()

    asyncio.run(run())


def test_an_app_that_did_not_opt_in_commits_as_faust_does() -> None:
    async def run() -> None:
        delivery.install(faust.App("delivery-opted", broker="kafka://127.0.0.1:1"))  # patches
        app = faust.App("delivery-plain", broker="kafka://127.0.0.1:1")
        consumer = app.consumer
        consumer._filter_committable_offsets = lambda tps: {TP0: 5}
        consumer._commit_offsets = mock.AsyncMock(return_value=True)
        assert await asyncio.wait_for(consumer._commit_tps([TP0], False), 1.0) is True

    asyncio.run(run())
