"""Sends that must be on the broker before the caller records that they happened."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import faust


async def publish_acked(
    messages: Sequence[tuple[bytes | None, bytes]], topic: faust.TopicT
) -> None:
    """Send now (not at the input's commit) and wait until the broker has every message.

    With publish-on-commit Faust would hold these sends until the input's offset is
    committed, while table writes reach the changelog at once: a rebalance in between
    dropped the held sends and the table said they had happened
    (tests/integration/test_deadline_watch.py).
    """
    pending = [await topic.send(key=k, value=v, force=True) for k, v in messages]
    await asyncio.gather(*pending)
