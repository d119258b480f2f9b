"""Sends that must be on the broker before the caller records that they happened."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import faust


async def publish_acked(
    messages: Sequence[tuple[bytes | None, bytes]], topic: faust.TopicT
) -> None:
    """Send now and wait until the broker has every message, before the caller records it.

    The worker's commits wait for its sends (``streams.delivery``), but a table write
    reaches the changelog at once: recorded before the broker had the send, a crash in
    between would leave the table saying it happened (when the worker published on
    commit, a rebalance dropped such held sends; tests/integration/test_deadline_watch.py).
    ``force``: publish now even in an app that publishes on commit.
    """
    pending = [await topic.send(key=k, value=v, force=True) for k, v in messages]
    await asyncio.gather(*pending)
