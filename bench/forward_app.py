"""A worker that costs nothing: a bare Faust agent forwarding decisions made beforehand.

The ceiling yardstick for end to end. The benchmark decides every report before the
run (the real ``SubmissionProcessor``, no broker) and publishes each decision's bytes
on ``bench.decided.<topic>``; this agent forwards them to ``reports.accepted`` and
``reports.rejected``, where the real sink writes them to the warehouse. So the
pipeline's rate with it is what the machine allows with one Kafka message per report
when validation, dedupe, the ledger and the deadline watch cost nothing. Same broker
settings as the real worker; run with ``python -m bench.forward_app``.
"""

from __future__ import annotations

import faust

from bench.passthrough_app import run_worker
from contract import topics
from contract.settings import Settings
from streams.app import faust_settings

APP_ID = "bench-forward-decisions"
#: Where the decisions wait -> where the real worker would have sent them.
ROUTES = {f"bench.decided.{name}": name for name in (topics.ACCEPTED, topics.REJECTED)}


def create_app(settings: Settings) -> faust.App:
    """One agent over both source topics; each event goes on, bytes and key unchanged."""
    app = faust.App(APP_ID, **faust_settings(settings))

    def declare(*names: str) -> faust.TopicT:
        return app.topic(
            *names, partitions=settings.partitions, key_serializer="raw", value_serializer="raw"
        )

    targets = {source: declare(target) for source, target in ROUTES.items()}

    @app.agent(declare(*ROUTES), name="forward_decisions")
    async def forward_decisions(stream: faust.StreamT[bytes]) -> None:
        """Send each decision where the worker sends it, as the pass-through does."""
        async for event in stream.events():
            await targets[event.message.topic].send(key=event.key, value=event.value)

    return app


def main() -> None:
    run_worker(create_app(Settings()))


if __name__ == "__main__":
    main()
