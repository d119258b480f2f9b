"""A bare Faust agent that forwards each event's bytes: the yardstick for the worker.

Same broker settings as the real worker (``streams.app.faust_settings``), no decoding,
no table, no rules: what is left is Faust's own per-event cost. Run it with
``python -m bench.passthrough_app`` (settings from ``BAOCAO_*`` variables).
"""

from __future__ import annotations

import faust

from contract import topics
from contract.settings import Settings
from streams import state
from streams.app import faust_settings

APP_ID = "bench-passthrough"
SOURCE = topics.SUBMITTED
TARGET = "bench.forwarded"


def create_app(
    settings: Settings, app_id: str = APP_ID, target_name: str = TARGET, keep: bool = False
) -> faust.App:
    """The pass-through app: ``SOURCE`` -> ``target_name``, bytes unchanged, key kept.

    ``keep``: also write each event's text to a table under its key, as the worker
    writes its ledger (``bench.stateful_app``).
    """
    app = faust.App(app_id, **faust_settings(settings))
    parts = settings.partitions
    source = app.topic(SOURCE, partitions=parts, key_serializer="raw", value_serializer="raw")
    target = app.topic(target_name, partitions=parts, key_serializer="raw", value_serializer="raw")
    table = state.table(app, "ledger", settings) if keep else None

    @app.agent(source, name="forward")
    async def forward(stream: faust.StreamT[bytes]) -> None:
        """Send each event on, as the worker's agent sends its decision."""
        async for event in stream.events():
            if table is not None:
                table[event.key.decode()] = event.value.decode()
            await target.send(key=event.key, value=event.value)

    return app


def run_worker(app: faust.App) -> None:
    """Run ``app`` as `baocao worker` runs the real one (``baocao.cli.worker``).

    Without its spinner: Faust's start-up spinner leaves the root logger at DEBUG, and
    every send then builds a log record the worker never builds (≈ 5 % of the
    pass-through's CPU under py-spy), which would flatter the worker.
    """
    runner = faust.Worker(app, loglevel="WARNING")
    runner.spinner = None
    runner.execute_from_commandline()


def main() -> None:
    run_worker(create_app(Settings()))


if __name__ == "__main__":
    main()
