"""A bare Faust agent that only receives each event: how much of the pass-through is input.

With ``bench.passthrough_app`` it splits Faust's per-event cost into receiving an event
(fetch, the Event, the stream's acks and commits) and sending one. Same broker settings
as the real worker. It sends nothing, so it reports how many events it has seen by
rewriting the file named by ``BENCH_RECEIVED_FILE`` five times a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import faust

from bench.passthrough_app import SOURCE, run_worker
from contract.settings import Settings
from streams.app import faust_settings

APP_ID = "bench-receive"


def create_app(settings: Settings, counts: Path) -> faust.App:
    """The receive-only app: count ``SOURCE``'s events, write the count to ``counts``."""
    app = faust.App(APP_ID, **faust_settings(settings))
    source = app.topic(
        SOURCE, partitions=settings.partitions, key_serializer="raw", value_serializer="raw"
    )
    seen = [0]

    @app.agent(source, name="receive")
    async def receive(stream: faust.StreamT[bytes]) -> None:
        async for _event in stream.events():
            seen[0] += 1

    @app.timer(0.2)  # type: ignore[untyped-decorator]
    async def write_count() -> None:
        tmp = counts.with_suffix(".tmp")
        tmp.write_text(str(seen[0]))
        tmp.replace(counts)  # readers never see a half-written number

    return app


def main() -> None:
    run_worker(create_app(Settings(), Path(os.environ["BENCH_RECEIVED_FILE"])))


if __name__ == "__main__":
    main()
