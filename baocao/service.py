"""The warehouse service: the one process that owns the warehouse.

chDB lets only one process open its data, so the sink and everything that reads the
warehouse (submission API and form, status API, dashboards, compliance) run here,
sharing one serialized Warehouse object.
"""

from __future__ import annotations

import logging
import signal
import threading

from baocao.context import Context
from baocao.feed import DecisionFeed
from baocao.web import WebServer, build_app, runner_stats
from contract.stop_deadline import StopDeadline, thread_stacks
from sinks.consumer import SinkRunner
from warehouse.wait import open_when_ready

log = logging.getLogger(__name__)


def serve(ctx: Context) -> None:
    """Run the sink and the web app until SIGTERM or SIGINT."""
    settings = ctx.settings
    wh = open_when_ready(settings)  # a ClickHouse server may still be starting
    wh.ensure_schema()
    wh.load_units(ctx.registry)
    stop = threading.Event()
    runner = SinkRunner(settings, wh)
    sink_thread = threading.Thread(target=runner.run, args=(stop,), name="sink", daemon=True)
    app = build_app(ctx, wh, runner_stats(runner))
    # The API keeps its state from what the sink writes, not from a query per request.
    runner.sink.on_written = DecisionFeed(app.state.desk)
    web = WebServer(app, settings.http_host, settings.http_port)

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    # uvicorn runs in a thread and installs no signal handlers there: this process does.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sink_thread.start()
    web.start()
    log.info("warehouse service on http://%s:%d", settings.http_host, settings.http_port)
    stop.wait()
    # Invariant: a stopped service is gone within the deadline, also when the broker died
    # with it (a killed `baocao up` stops every child at once; tests/integration/test_up.py).
    # Rows are written before their offsets are committed: nothing written is lost.
    StopDeadline(
        settings.warehouse_stop_seconds,
        thread_stacks,
        who=("warehouse service", "Dịch vụ kho dữ liệu"),
    ).arm()
    web.stop()  # also stops the outbox courier
    sink_thread.join(timeout=30)  # the sink flushes and commits what it holds
    wh.close()
