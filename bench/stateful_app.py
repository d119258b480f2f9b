"""The pass-through plus one table write per event: the least a stateful worker costs.

Dedupe and revision numbering need a ledger entry per unit, dataset and day, and a
Faust table persists every write as a changelog record. So a worker that decides one
report per Kafka message pays, at least, the pass-through's receive and send plus
this write. Same broker settings and the same table helper as the real worker
(``streams.state.table``); run with ``python -m bench.stateful_app``.
"""

from __future__ import annotations

import faust

from bench.passthrough_app import SOURCE, run_worker
from contract.settings import Settings
from streams import state
from streams.app import faust_settings

APP_ID = "bench-stateful"
TARGET = "bench.forwarded-stateful"


def create_app(settings: Settings) -> faust.App:
    """``SOURCE`` -> ``TARGET``, bytes unchanged, each event's text kept under its key."""
    app = faust.App(APP_ID, **faust_settings(settings))
    parts = settings.partitions
    source = app.topic(SOURCE, partitions=parts, key_serializer="raw", value_serializer="raw")
    target = app.topic(TARGET, partitions=parts, key_serializer="raw", value_serializer="raw")
    table = state.table(app, "ledger", settings)

    @app.agent(source, name="forward_and_keep")
    async def forward_and_keep(stream: faust.StreamT[bytes]) -> None:
        """Write the event to the table, then send it on, as the worker writes its ledger."""
        async for event in stream.events():
            table[event.key.decode()] = event.value.decode()
            await target.send(key=event.key, value=event.value)

    return app


def main() -> None:
    run_worker(create_app(Settings()))


if __name__ == "__main__":
    main()
