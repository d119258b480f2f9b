"""A bare Faust agent that forwards each event's bytes: the yardstick for the worker.

Same broker settings as the real worker (``streams.app.faust_settings``), no decoding,
no table, no rules: what is left is Faust's own per-event cost. Run it with
``python -m bench.passthrough_app`` (settings from ``BAOCAO_*`` variables).
"""

from __future__ import annotations

import faust

from contract import topics
from contract.settings import Settings
from streams.app import faust_settings

APP_ID = "bench-passthrough"
SOURCE = topics.SUBMITTED
TARGET = "bench.forwarded"


def create_app(settings: Settings) -> faust.App:
    """The pass-through app: ``SOURCE`` -> ``TARGET``, bytes unchanged, key kept."""
    app = faust.App(APP_ID, **faust_settings(settings))
    parts = settings.partitions
    source = app.topic(SOURCE, partitions=parts, key_serializer="raw", value_serializer="raw")
    target = app.topic(TARGET, partitions=parts, key_serializer="raw", value_serializer="raw")

    @app.agent(source, name="forward")
    async def forward(stream: faust.StreamT[bytes]) -> None:
        """Send each event on, as the worker's agent sends its decision."""
        async for event in stream.events():
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
