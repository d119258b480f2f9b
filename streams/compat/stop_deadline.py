"""A worker asked to stop is gone within a bounded time, whatever its stop waits on.

Faust's stop commits the consumer's offsets first, and aiokafka retries that commit
until a group coordinator answers (the same endless coordinator loop as
aio-libs/aiokafka#659 in ``Consumer.stop``). With the broker gone as well, it never
does: a killed `baocao up` sends SIGTERM to every child at once, and a worker stopped
mid-drain after its broker had died waited for ever in ``App._stop_consumer`` →
``Consumer.commit``, outliving its runner. Cutting the stop short loses nothing:
results are published before their offsets are committed, so input the stop could
not commit is read again by the next worker (at-least-once, idempotent downstream).
Shown by tests/integration/test_worker_stop.py; it can go when a commit during stop
gives up once no broker answers.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import faust

from streams.compat import liveness

log = logging.getLogger(__name__)

#: Exit status of a stop cut short (as `timeout` uses: the command ran out of time).
EXIT_STOP_TIMED_OUT = 124

#: The Worker methods ``worker`` overrides to arm the deadline (None when gone).
HOOKS = {
    f"faust.Worker.{name}": getattr(faust.Worker, name, None)
    for name in ("_on_sigint", "_on_sigterm", "on_worker_shutdown")
}


class StopDeadline:
    """Once armed, ends the process after ``seconds`` unless it has ended by itself."""

    def __init__(
        self,
        seconds: float,
        describe: Callable[[], str] = lambda: "",
        exit: Callable[[int], Any] = os._exit,
    ) -> None:
        self.seconds = seconds
        self.describe = describe  # where the stop waits, for the log
        self.exit = exit
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self) -> None:
        """Start the clock (once; later calls keep the first deadline). 0 never ends it."""
        with self._lock:
            if self._timer is not None or self.seconds <= 0:
                return
            # A daemon thread: a stop that finishes in time exits without waiting for it.
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        log.error(
            "worker stop did not finish in %g s; exiting now (uncommitted input is read "
            "again by the next worker). Worker không dừng xong sau %g giây; thoát ngay "
            "(dữ liệu chưa commit sẽ được đọc lại).",
            self.seconds,
            self.seconds,
        )
        try:
            log.warning("where the stop waited:\n%s", self.describe())
        except Exception:  # the loop's tasks change under us: the exit matters more
            log.warning("where the stop waited: could not tell", exc_info=True)
        logging.shutdown()
        self.exit(EXIT_STOP_TIMED_OUT)


def worker(app: faust.App, stop_seconds: float, **kwargs: Any) -> faust.Worker:
    """A ``faust.Worker`` whose stop, by signal or after a crash, ends in ``stop_seconds``."""

    def where() -> str:  # every task of the worker's loop, and every thread
        return liveness.task_stacks([runner.loop])

    deadline = StopDeadline(stop_seconds, where)

    class BoundedStopWorker(faust.Worker):
        def _on_sigint(self) -> None:
            deadline.arm()
            super()._on_sigint()

        def _on_sigterm(self) -> None:
            deadline.arm()
            super()._on_sigterm()

        def on_worker_shutdown(self) -> None:  # any way out: a crash stops the app too
            deadline.arm()
            super().on_worker_shutdown()

    runner = BoundedStopWorker(app, **kwargs)
    return runner
