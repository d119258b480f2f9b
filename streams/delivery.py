"""A worker's outputs leave at once; an input is committed only once the broker has them.

Faust offers two ways, and neither fits a pipeline that must not lose a report and should
show it within a second:
- publish on commit (``stream_publish_on_commit``): an output waits for the next commit
  (every ``BAOCAO_WORKER_COMMIT_SECONDS``), and the commit then publishes and awaits one
  partition's outputs after another (``Consumer._handle_attached``). The wait was most of
  a decision's latency (docs/benchmarks.md, Latency);
- send at once (Faust's default): the commit does not look at the producer, so a stuck
  producer lost accepted reports whose inputs were already committed (the kill/restart
  test, tests/integration/test_pipeline.py).

So every send goes out at once, as by default, and a commit first waits until the broker
has acknowledged every send the worker made before it, the tables' changelog records
included. A send the broker refused, or one given up, fails every later commit with
Faust's ``ProducerSendError``, which crashes the worker before it commits: its inputs are
read again (at-least-once; the sink and the notifier drop what they already have).
tests/streams/test_delivery.py shows the commit waiting and refusing; the pipeline,
acknowledged and deadline-watch integration tests show nothing lost on either broker.

Invariant: an offset is committed only after every output of the events before it is on
the broker. Sends awaited with acknowledgement (``send_and_wait``) are not tracked.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.exceptions import ProducerSendError
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.compat import versions
from streams.compat.versions import FAUST

_send: Any = getattr(faust_aiokafka.Producer, "send", None)
_handle_attached: Any = getattr(faust_consumer.Consumer, "_handle_attached", None)

#: The Faust methods ``install`` wraps (None when gone).
HOOKS = {
    "faust.transport.drivers.aiokafka.Producer.send": _send,
    "faust.transport.consumer.Consumer._handle_attached": _handle_attached,
}

#: The app attribute holding its ``Deliveries`` (apps without one commit as Faust does).
_ATTR = "_baocao_deliveries"


class Deliveries:
    """The sends a worker made that the broker has not acknowledged yet, and the first
    that failed."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[Any]] = set()
        self.failed: BaseException | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def track(self, sent: asyncio.Future[Any]) -> None:
        self._pending.add(sent)
        sent.add_done_callback(self._done)

    def _done(self, sent: asyncio.Future[Any]) -> None:
        self._pending.discard(sent)
        if self.failed is None:
            if sent.cancelled():
                self.failed = asyncio.CancelledError("a send was cancelled before delivery")
            elif sent.exception() is not None:
                self.failed = sent.exception()

    async def settle(self) -> None:
        """Return once every send made so far is acknowledged; raise if one never will be.

        Sends made while this waits belong to events not yet acknowledged; the next
        commit waits for them.
        """
        waiting = list(self._pending)
        if waiting:
            await asyncio.wait(waiting)
        if self.failed is not None:
            raise ProducerSendError(
                f"an output was not delivered, so no offset is committed: {self.failed!r}"
            ) from self.failed


def install(app: faust.App) -> Deliveries:
    """Make ``app``'s commits wait for its sends (the patch is process-wide, the opt-in
    per app). The app must not publish on commit: its outputs would wait for it."""
    assert not app.conf.stream_publish_on_commit, "outputs would wait for the commit"
    versions.check("delivery", (FAUST,), HOOKS)
    deliveries = Deliveries()
    setattr(app, _ATTR, deliveries)
    faust_aiokafka.Producer.send = _tracked_send  # type: ignore[method-assign]
    faust_consumer.Consumer._handle_attached = _settled_first  # type: ignore[method-assign]
    return deliveries


async def _tracked_send(self: Any, *args: Any, **kwargs: Any) -> Any:
    sent = await _send(self, *args, **kwargs)
    deliveries: Deliveries | None = getattr(self.app, _ATTR, None)
    if deliveries is not None and isinstance(sent, asyncio.Future):
        deliveries.track(sent)
    return sent


async def _settled_first(self: Any, commit_offsets: Any) -> None:
    # Faust calls this just before it commits ``commit_offsets``; a ProducerSendError
    # raised here crashes the worker instead (Consumer._commit_tps).
    await _handle_attached(self, commit_offsets)
    deliveries: Deliveries | None = getattr(self.app, _ATTR, None)
    if deliveries is not None:
        await deliveries.settle()
